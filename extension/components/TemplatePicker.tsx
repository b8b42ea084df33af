import { useState } from 'preact/hooks';
import type { MessageTemplate } from '../lib/relay-types.ts';

/** Chooses a template and inserts it with a button, so choosing with the arrow keys inserts nothing. */
export function TemplatePicker({
  templates,
  onInsert,
}: {
  templates: readonly MessageTemplate[];
  onInsert: (template: MessageTemplate) => void;
}) {
  const [chosen, setChosen] = useState('');
  return (
    <div class="composer-row">
      <label for="template" class="inline-label">
        Template
      </label>
      {/* Choosing with the arrow keys must not insert each template it passes: a button inserts. */}
      <select id="template" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
        <option value="">Choose a template…</option>
        {templates.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      <button
        type="button"
        disabled={chosen === ''}
        onClick={() => {
          const template = templates.find((t) => t.id === chosen);
          if (template) onInsert(template);
          setChosen('');
        }}
      >
        Insert
      </button>
    </div>
  );
}
