import { z } from 'zod'

/** Longest device name a client may choose (`device_name`, `deviceName`). */
export const MAX_DEVICE_NAME = 64

// C0 controls (TAB and newlines included), DEL and C1 controls (Unicode Cc): never part of a name or an
// address, and what a terminal or log viewer would act on when an operator reads the value.
const NO_CONTROL_CHARACTERS = /^\P{Cc}*$/u

/**
 * The schema of a text field a client chooses and others later read (device and profile names,
 * nickName, email): a string without control characters, at most `max` characters when given.
 * A refusal names the field (see parseWith), so the client learns which one to fix.
 */
export function clientText(max?: number) {
  const text = max === undefined ? z.string() : z.string().max(max)
  return text.regex(NO_CONTROL_CHARACTERS, { message: 'must not hold control characters' })
}

/** A device name as a client sends it at login or registration. */
export const DeviceName = clientText(MAX_DEVICE_NAME)
