/**
 * A button whose action runs only after a confirmation in a modal <dialog> (focus moves
 * into it, Escape cancels, focus returns to the button), optionally asking for one value
 * (a new password, a DTCP secret). A failed action shows its message in the dialog.
 */
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';

export interface ConfirmProps {
  /** The button's text. */
  label: string;
  /** Its accessible name when the text alone is ambiguous in a table row ("Disconnect alice/laptop"). */
  name?: string;
  /** What the dialog asks. */
  question: ComponentChildren;
  /** The confirm button's text (default: label). */
  confirm?: string;
  danger?: boolean;
  disabled?: boolean;
  /** Ask for a value first; it is passed to the action. */
  field?: { label: string; minLength?: number };
  action: (value: string) => Promise<void>;
  /** After the action succeeded. */
  done?: () => void;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

export function ConfirmButton({ label, name, question, confirm, danger, disabled, field, action, done }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [value, setValue] = useState('');

  const open = () => {
    setError(undefined);
    setValue('');
    const d = dialog.current!;
    if (typeof d.showModal === 'function') d.showModal();
    else d.setAttribute('open', '');
  };
  const close = () => {
    const d = dialog.current!;
    if (typeof d.close === 'function') d.close();
    else d.removeAttribute('open');
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await action(value);
      close();
      done?.();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" class={danger ? 'danger' : undefined} aria-label={name} disabled={disabled} onClick={open}>
        {label}
      </button>
      <dialog ref={dialog} class="confirm" aria-label={name ?? label}>
        <form method="dialog" onSubmit={submit}>
          <p>{question}</p>
          {field && (
            <label>
              {field.label}
              <input type="password" required minLength={field.minLength} value={value} autoComplete="new-password" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
            </label>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="buttons">
            <button type="button" onClick={close} disabled={busy}>
              Cancel
            </button>
            <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy}>
              {confirm ?? label}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
