/** A minimal typed event emitter; a listener that throws is reported, never breaks the SDK's state. */
export class Emitter<Events> {
  #listeners = new Map<keyof Events, Set<(value: never) => void>>()

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    const set = this.#listeners.get(name) ?? new Set()
    this.#listeners.set(name, set)
    set.add(listener)
    return () => this.off(name, listener)
  }

  off<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): void {
    this.#listeners.get(name)?.delete(listener)
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const listener of [...(this.#listeners.get(name) ?? [])]) {
      try {
        ;(listener as (v: Events[K]) => void)(value)
      } catch (e) {
        // The app's bug: surface it like any uncaught error, after the SDK has finished its step.
        setTimeout(() => {
          throw e
        })
      }
    }
  }
}
