// An HTTP answer that is an error: `{ error: { code, message } }` with a status. Handlers throw it; the
// router turns it into the response, so every error a client sees reads the same way.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More about the error, next to code and message (the action id of a rejected action). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get body() {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export const notFound = (message: string) => new HttpError(404, 'not-found', message);
