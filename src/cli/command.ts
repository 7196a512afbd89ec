// The shape of a `planescope` sub-command and the error type that ends it with a message, not a trace.

export interface Command {
  /** The verb, as typed: `planescope <name> ...`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full help text shown by `planescope help <name>` and `planescope <name> --help`. */
  help: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** An error the user can act on: printed as `planescope: <message>` with exit code 2 (usage) or 1. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
