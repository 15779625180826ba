import type { Prisma, PrismaClient } from './generated/prisma/client.js';

/**
 * What a repository talks through: the client, or a client bound to one interactive
 * transaction (`db.transaction`). Repositories use only what both offer.
 */
export type DbClient = PrismaClient | Prisma.TransactionClient;

/** True when `client` is the root client (not inside a transaction). */
export function isRootClient(client: DbClient): client is PrismaClient {
  return typeof (client as PrismaClient).$transaction === 'function';
}
