import type { RequestHandler } from 'express';
import { ErrorCode } from '../graphql/errors.js';

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return (
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0')
  );
}

/**
 * A request body that stops arriving for `idleMs` is answered 408 and its connection closed,
 * instead of holding a connection (and the part of an upload already in memory) until the whole
 * request's limit (REQUEST_TIMEOUT_MS, Node's own). Mounted after the key check, so only a
 * request with a valid key ever gets as far as reading its body. The timer is the socket's
 * inactivity timeout, which Node refreshes on every chunk it parses, and it ends with the body:
 * the time a resolver then takes to answer is not counted.
 */
export function bodyIdleTimeout(idleMs: number): RequestHandler {
  return (req, res, next) => {
    if (idleMs <= 0 || req.complete || !hasBody(req.headers)) {
      next();
      return;
    }
    const socket = req.socket;
    const stop = () => {
      socket.setTimeout(0);
      req.off('timeout', onIdle);
    };
    function onIdle() {
      stop();
      if (res.headersSent) {
        socket.destroy();
        return;
      }
      // Connection: close ends the connection once the answer is written; what the client
      // still sends of the body is not waited for.
      res.set('Connection', 'close');
      res.status(408).json({
        errors: [
          {
            message: `No byte of the request body arrived for ${idleMs} ms; the request is abandoned`,
            extensions: { code: ErrorCode.BAD_USER_INPUT },
          },
        ],
      });
    }
    // Node emits 'timeout' on the request (not the socket's default of destroying it) while
    // the request is still incomplete; our listener answers it.
    req.setTimeout(idleMs, onIdle);
    req.once('end', stop);
    req.once('close', stop);
    next();
  };
}
