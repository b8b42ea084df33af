/** A refusal from the relay, as its error envelope says it (DESIGN.md: {"error":{code,message,details}}). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}
