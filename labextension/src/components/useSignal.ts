/** Re-render a component whenever a Lumino signal fires. */
import type { ISignal } from '@lumino/signaling';
import { useEffect, useReducer } from 'react';

export function useSignal<T>(signal: ISignal<T, unknown>): void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const slot = (): void => bump();
    signal.connect(slot);
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}
