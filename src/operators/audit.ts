import type { Logger } from 'pino'
import { createId } from '../auth/tokens.js'
import type { AuditRow, AuditVia, Store } from '../store/types.js'

/** One operator action as its caller describes it; `details` go to the log line only (never a secret). */
export interface OperatorAction {
  actor: string
  via: AuditVia
  action: string
  target: string
  details?: Record<string, unknown>
}

export interface AuditTrailDeps {
  store: Store
  log: Logger
  /** The node (or, for the CLI, the host) that acts. */
  nodeId: string
  now: () => number
  /** Told about each entry written here (the console's live feed). */
  onRecorded?: (entry: AuditRow) => void
}

/**
 * The audit trail: every operator action, whichever way it came (backoffice session, service
 * token, CLI), becomes one row in the store and one `info` log line with the same fields. Reads are
 * not actions and are not recorded here.
 */
export class AuditTrail {
  /** How many entries this trail wrote: the start of each id, so entries of one millisecond keep their order. */
  private written = 0

  constructor(private readonly deps: AuditTrailDeps) {}

  /**
   * The listing is newest first by (`at`, `id`); two actions in one millisecond tie on `at`, so the
   * id begins with this trail's running count (12 digits: the same order under any collation) and
   * ends with a UUID for uniqueness across processes. Entries of different nodes in one
   * millisecond keep no order between them.
   */
  private nextId(): string {
    this.written++
    return `${String(this.written).padStart(12, '0')}-${createId()}`
  }

  /**
   * Records an action that happened. `countOn` names the live node that counts it in its metrics
   * (the CLI's actions when no bus carries them), else null. A failed write is logged as an error
   * and does not undo the action; the info line is written either way.
   */
  async record(action: OperatorAction, countOn: string | null = null): Promise<AuditRow> {
    const entry: AuditRow = {
      id: this.nextId(),
      at: this.deps.now(),
      actor: action.actor,
      via: action.via,
      action: action.action,
      target: action.target,
      nodeId: this.deps.nodeId,
      countOn,
    }
    this.deps.log.info(
      {
        event: 'admin_action',
        ...action.details,
        at: new Date(entry.at).toISOString(),
        action: entry.action,
        actor: entry.actor,
        via: entry.via,
        target: entry.target,
        node_id: entry.nodeId,
      },
      'admin action',
    )
    try {
      await this.deps.store.recordAudit(entry)
      this.deps.onRecorded?.(entry)
    } catch (err) {
      this.deps.log.error({ err, event: 'audit_write_failed', action: entry.action }, 'could not store an audit entry')
    }
    return entry
  }
}
