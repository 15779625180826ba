import type {
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  Transaction,
} from '@prisma/driver-adapter-utils';

/** Statements sent to the database since the handle opened: each is one round trip. */
export interface RoundTripCounter {
  readonly count: number;
}

/**
 * Wrap a Prisma driver adapter so every statement it sends is counted: queries, BEGIN and
 * COMMIT/ROLLBACK included. With `usePhantomQuery` the driver itself sends BEGIN and COMMIT
 * (PGlite); otherwise Prisma sends them as statements through the transaction (pg), which the
 * wrapper sees, and only the BEGIN inside startTransaction is counted by hand. What the lean
 * search path promises ("at most two round trips") is asserted with this.
 */
export function countRoundTrips(factory: SqlDriverAdapterFactory): {
  factory: SqlDriverAdapterFactory;
  counter: RoundTripCounter;
} {
  const state = { count: 0 };
  const counted = <T extends object>(target: T, extra: Record<string, unknown> = {}): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        if (prop in extra) return extra[prop as string];
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'queryRaw' || prop === 'executeRaw' || prop === 'executeScript') {
          return (...args: unknown[]) => {
            state.count++;
            return (value as (...a: unknown[]) => unknown).apply(obj, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(obj);
      },
    });
  const wrapTransaction = (tx: Transaction): Transaction => {
    const end = (name: 'commit' | 'rollback') => (): Promise<void> => {
      if (tx.options.usePhantomQuery) state.count++;
      return tx[name]();
    };
    return counted(tx, { commit: end('commit'), rollback: end('rollback') });
  };
  const wrapAdapter = (adapter: SqlDriverAdapter): SqlDriverAdapter =>
    counted(adapter, {
      async startTransaction(...args: Parameters<SqlDriverAdapter['startTransaction']>) {
        const tx = await adapter.startTransaction(...args);
        state.count++; // BEGIN
        return wrapTransaction(tx);
      },
    });
  return {
    factory: counted(factory, {
      async connect() {
        return wrapAdapter(await factory.connect());
      },
    }),
    counter: {
      get count() {
        return state.count;
      },
    },
  };
}
