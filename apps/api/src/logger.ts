export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

export const consoleLogger: Logger = {
  info: (m) => {
    console.log(m);
  },
  error: (m, e) => {
    console.error(m, e);
  },
};
