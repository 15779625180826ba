// The CLI's environment, read once: where the API is and which key to send (the flags win).
export function cliEnv(): { url?: string; apiKey?: string } {
  const { LOOKALIKE_URL: url, LOOKALIKE_API_KEY: apiKey } = process.env;
  return { ...(url ? { url } : {}), ...(apiKey ? { apiKey } : {}) };
}
