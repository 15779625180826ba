import type { ErrorRequestHandler } from 'express';
import { ErrorCode } from '../graphql/errors.js';
import type { Logger } from '../logger.js';

/**
 * Errors outside GraphQL execution (malformed JSON or multipart, oversized bodies): the
 * client's fault gets its 4xx and a code; anything else is logged and masked.
 */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (
    error: {
      status?: number;
      statusCode?: number;
      expose?: boolean;
      message?: string;
      field?: string;
    },
    req,
    res,
    _next,
  ) => {
    const status = error.status ?? error.statusCode ?? 500;
    // Already answered (a stalled body got its 408, and the body reader then saw the
    // connection close): there is nothing left to say.
    if (res.headersSent) {
      // An answer cut short cannot be completed; a whole one closes its connection itself.
      if (!res.writableEnded) req.socket.destroy();
      return;
    }
    if (status >= 400 && status < 500) {
      const code = status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.BAD_USER_INPUT;
      res.status(status).json({
        errors: [
          {
            message: error.expose !== false ? (error.message ?? 'Bad request') : 'Bad request',
            extensions: { code, ...(error.field ? { field: error.field } : {}) },
          },
        ],
      });
      return;
    }
    log.error('[api] unexpected error', error);
    res.status(500).json({
      errors: [
        {
          message: 'Internal server error',
          extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
        },
      ],
    });
  };
}
