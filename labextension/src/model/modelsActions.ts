/**
 * The alias changes of a model: their inputs, how they are checked before they are sent
 * (the daemon checks again), and the line that says what one did.
 */

/** A change of an alias, as the daemon names it. */
export type ModelAction = 'promote' | 'rollback' | 'cutout' | 'restore';

/** The aliases offered first (any other matching ALIAS_PATTERN may be typed). */
export const STANDARD_ALIASES: readonly string[] = ['dev', 'staging', 'production'];

/** An alias the daemon accepts: lowercase letters, digits and '-', starting with a letter. */
export const ALIAS_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export interface PromoteInput {
  version: number;
  alias: string;
  reason: string;
  /** Promote although required checks failed: needs a reason. */
  override: boolean;
}

export interface AliasChangeInput {
  /** null: every alias of the model (cut out, restore). */
  alias: string | null;
  reason: string;
}

export interface ActionError {
  action: ModelAction;
  message: string;
}

/** Why an action's input cannot be sent, as one line; null when it can. */
export function validateAction(
  action: ModelAction,
  input: PromoteInput | AliasChangeInput
): string | null {
  const reason = input.reason.trim();
  if (action === 'promote' || action === 'rollback' || input.alias !== null) {
    const alias = input.alias ?? '';
    if (!ALIAS_PATTERN.test(alias)) {
      return alias
        ? `"${alias}" is not an alias: use lowercase letters, digits and '-', starting with a ` +
            'letter (e.g. production-eu).'
        : 'Choose an alias.';
    }
  }
  if (action === 'promote' && (input as PromoteInput).override && !reason) {
    return 'An override needs a reason: say why the failed checks may be ignored.';
  }
  if (action === 'cutout' && !reason) {
    return 'A cut-out needs a reason: say why the model must stop serving.';
  }
  return null;
}

/** What a successful action did, as one line. */
export function doneMessage(action: ModelAction, input: PromoteInput | AliasChangeInput): string {
  const target = input.alias ?? 'every alias';
  switch (action) {
    case 'promote': {
      const p = input as PromoteInput;
      return `Promoted version ${p.version} to ${p.alias}${p.override ? ' (override)' : ''}.`;
    }
    case 'rollback':
      return `Rolled back ${target}.`;
    case 'cutout':
      return `Cut out ${target}.`;
    case 'restore':
      return `Restored ${target}.`;
  }
}
