'use client';

import { useId, useRef, useState, type ReactNode } from 'react';
import { filesFromDrop, isJunkFile } from '@/lib/upload-client';
import { useHydrated } from './use-hydrated';

/**
 * Drop files (or folders) here, or pick them with the buttons: both paths end in `onFiles`.
 * The buttons are real <input type=file> controls behind labels, so the keyboard works.
 */
export function Dropzone({
  onFiles,
  multiple = true,
  folders = false,
  accept = 'image/*',
  disabled = false,
  children,
}: {
  onFiles: (files: File[]) => void;
  multiple?: boolean;
  folders?: boolean;
  accept?: string;
  disabled?: boolean;
  children?: ReactNode;
}) {
  const [active, setActive] = useState(false);
  const depth = useRef(0);
  const id = useId();
  const ready = useHydrated();
  const hand = (files: File[]) => {
    const kept = files.filter((f) => !isJunkFile(f));
    if (kept.length) onFiles(multiple ? kept : kept.slice(0, 1));
  };
  return (
    <div
      className="dropzone"
      data-active={active}
      data-ready={ready || undefined}
      onDragEnter={(e) => {
        e.preventDefault();
        depth.current++;
        setActive(true);
      }}
      onDragOver={(e) => {
        e.preventDefault();
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setActive(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        depth.current = 0;
        setActive(false);
        if (disabled) return;
        void filesFromDrop(e.dataTransfer).then(hand);
      }}
    >
      {children ?? (
        <p>
          <strong>Drop {multiple ? 'images or a folder' : 'an image'} here</strong>
        </p>
      )}
      <div className="row" style={{ justifyContent: 'center' }}>
        <label className="button" htmlFor={`${id}-files`} style={{ marginBottom: 0 }}>
          Choose {multiple ? 'files' : 'a file'}…
        </label>
        <input
          id={`${id}-files`}
          className="sr-only"
          type="file"
          accept={accept}
          multiple={multiple}
          disabled={disabled}
          data-testid="file-input"
          onChange={(e) => {
            hand([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        {folders && (
          <>
            <label className="button" htmlFor={`${id}-folder`} style={{ marginBottom: 0 }}>
              Choose a folder…
            </label>
            <input
              id={`${id}-folder`}
              className="sr-only"
              type="file"
              disabled={disabled}
              // Non-standard but supported by every current browser.
              {...{ webkitdirectory: '', directory: '' }}
              onChange={(e) => {
                hand([...(e.target.files ?? [])]);
                e.target.value = '';
              }}
            />
          </>
        )}
      </div>
    </div>
  );
}
