/** The command line was wrong (unknown command or option, bad value): exit 2 with the usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The help text of the command that was meant, printed after the message. */
    readonly usage?: string,
  ) {
    super(message)
  }
}

/** The command was understood but failed (unknown user, taken name): exit 1. */
export class CliError extends Error {}

/** Exit codes of every chatgate command. */
export const ExitCode = { Ok: 0, Error: 1, Usage: 2 } as const
