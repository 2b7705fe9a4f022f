import { z } from 'zod'
import { parseEmail, parseUsername } from '../auth/rules.js'
import { parseLimit } from '../operators/operators.js'
import { decodeCursor } from '../views.js'
import { clientText, DeviceName } from './text-fields.js'

/** Request schemas of the HTTP routes (bodies and queries), shared by the dialects' declarations. */

/** A username as sent: lowercased and checked against the rule (400 INVALID_USERNAME), before any lookup. */
export const Username = z.string().transform((v) => parseUsername(v))

/** An email: no control characters, then trimmed, lowercased and checked (400 BAD_REQUEST). */
export const Email = clientText(254).transform((v) => parseEmail(v))

/** An email to log in with: matched trimmed and lowercased. */
const LoginEmail = clientText(254).transform((v) => v.trim().toLowerCase())

/** A password as sent: its length rule is checked by the flow that uses it (the error codes differ). */
export const Password = z.string()

const name = clientText(100)

/** `POST /session`. */
export const LoginBody = z.object({ username: Username, password: Password, device_name: DeviceName.optional() })
/** `POST /user/register`. */
export const RegisterBody = z.object({ username: z.string(), password: Password, device_name: DeviceName.optional() })
/** `PUT /user/password`. */
export const PasswordBody = z.object({ old_password: Password, new_password: Password })

/** `POST /api/user`. */
export const DialogramUserBody = z.object({
  // No length limit here: the username rule answers INVALID_USERNAME for a long one.
  nickName: clientText(),
  email: Email,
  password: Password,
  profile: z.object({ firstName: name.optional(), lastName: name.optional() }).optional(),
  deviceName: DeviceName.optional(),
})
/** `POST /api/session`: by email only; emails are matched trimmed and lowercased. */
export const DialogramSessionBody = z.object({
  email: LoginEmail,
  password: Password,
  deviceName: DeviceName.optional(),
})
/**
 * `POST /api/backoffice/session`: by email or by username. A username that breaks the rule is 400
 * `INVALID_USERNAME`, as at `POST /session`: no account can have it, and PostgreSQL refuses text
 * with a NUL in a lookup (a fuzzed `a\u0000b` was a 500 there).
 */
export const BackofficeBody = z.union([z.object({ email: LoginEmail, password: Password }), z.object({ username: Username, password: Password })])

/** `POST /admin/users/:username/events`: `{data}`, any JSON value, `null` included; a missing key is 400. */
export const PushBody = z.object({ data: z.unknown() })

/** `limit`, `cursor` and `username` of an operators' listing. */
export const ListQuery = z.object({
  limit: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const n = parseLimit(v)
      if (n === null) ctx.addIssue({ code: 'custom', message: 'limit must be a positive integer' })
      return n ?? 0
    }),
  cursor: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const c = decodeCursor(v ?? null)
      if (c === undefined) ctx.addIssue({ code: 'custom', message: 'cursor is not valid' })
      return c ?? undefined
    }),
  username: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : parseUsername(v))),
})

/** `GET /admin/sessions`: the listing query plus `state=all` (default) or `state=active`. */
export const SessionListQuery = ListQuery.extend({
  state: z.enum(['all', 'active'], { message: 'state must be all or active' }).optional(),
})

/** A role as sent: `user` or `admin` (400 naming the field otherwise). */
const RoleField = z.enum(['user', 'admin'], { message: 'role must be user or admin' })

/** `GET /admin/users`: `q` (a username or email prefix), `role`, `disabled`, and the page. */
export const UserListQuery = ListQuery.omit({ username: true }).extend({
  q: clientText(254)
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim().toLowerCase())),
  role: RoleField.optional(),
  disabled: z
    .enum(['true', 'false'], { message: 'disabled must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
})

/** `GET /admin/audit`: a page. */
export const AuditQuery = ListQuery.omit({ username: true })

/** `POST /admin/users`: the password is generated when absent (its rule is checked by the account service). */
export const AdminCreateUserBody = z.object({
  username: Username,
  password: Password.optional(),
  role: RoleField.optional(),
  email: Email.nullable().optional(),
})

/** `POST /admin/users/:username/password`: generated when absent. */
export const AdminPasswordBody = z.object({ password: Password.optional() })

/** `PUT /admin/users/:username/role`. */
export const RoleBody = z.object({ role: RoleField })

/** `GET /user/checkUsername`. */
export const CheckUsernameQuery = z.object({
  username: z
    .string()
    .optional()
    .transform((v) => parseUsername(v ?? '')),
})
