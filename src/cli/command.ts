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

/** Runs one command: its help for `--help`/`-h`, else the command itself. */
export function runCommand(command: Command, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.help);
    return Promise.resolve(0);
  }
  return command.run(args);
}

/** Runs `run` as the process: its result is the exit code, an error one clear line on stderr. */
export function runAsProcess(run: () => Promise<number>): void {
  run().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      if (error instanceof UserError) {
        console.error(`planescope: ${error.message}`);
        process.exitCode = error.exitCode;
      } else {
        const message = error instanceof Error ? error.message : String(error);
        console.error(`planescope: ${message}`);
        if (process.env.PLANESCOPE_DEBUG && error instanceof Error) console.error(error.stack);
        else console.error('(set PLANESCOPE_DEBUG=1 for the stack trace)');
        process.exitCode = 1;
      }
    },
  );
}
