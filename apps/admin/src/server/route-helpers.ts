import 'server-only';
import { NextResponse } from 'next/server';
import { ApiError, describeError } from './graphql';

const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  API_UNREACHABLE: 503,
};

/** A route handler's error answer: JSON { error, code } with a fitting status. */
export function errorResponse(error: unknown): NextResponse {
  const e = describeError(error);
  return NextResponse.json({ error: e.message, code: e.code }, { status: STATUS[e.code] ?? 500 });
}

/**
 * Route handlers that change things refuse cross-site requests: SameSite=Lax already keeps the
 * session cookie off cross-site POSTs; this also refuses a same-site but foreign Origin.
 * (Server actions get the same check from Next.js.)
 */
export function assertSameOrigin(req: Request): void {
  const origin = req.headers.get('origin');
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  if (origin && host && new URL(origin).host !== host) {
    throw new ApiError('Cross-origin request refused', 'FORBIDDEN', 403);
  }
}

/** The file part of a multipart form, or a BAD_USER_INPUT. */
export function fileField(form: FormData, name: string): File {
  const file = form.get(name);
  if (!(file instanceof File))
    throw new ApiError(`The form has no file "${name}"`, 'BAD_USER_INPUT', 400);
  return file;
}
