// The phone simulator page's script: polls the sandbox network and sends texts as the customer.
// Plain browser JavaScript, served by the relay under a strict CSP (no inline script).
const $ = (id) => document.getElementById(id);
const handsetInput = $('handset');
const serviceSelect = $('service');
const thread = $('thread');
const statusLine = $('status');
const text = $('text');
let lastRendered = '';

const params = new URLSearchParams(location.search);
handsetInput.value = params.get('handset') ?? localStorage.getItem('sandbox.handset') ?? '';

// Typed as people write numbers (202-555-0143, +1 (202) 555-0143); the relay reads and checks it.
function validHandset() {
  return handsetInput.value.replace(/\D/g, '').length >= 7;
}

async function refresh() {
  const handset = handsetInput.value.trim();
  const query = validHandset() ? `?handset=${encodeURIComponent(handset)}` : '';
  const response = await fetch(`/sandbox/phone/api/state${query}`);
  if (!response.ok) return;
  const state = await response.json();
  const selected = serviceSelect.value;
  const options = state.numbers.map((n) => `${n.e164}|${n.org}`).join(',');
  if (serviceSelect.dataset.options !== options) {
    serviceSelect.replaceChildren(
      ...state.numbers.map((n) => {
        const option = document.createElement('option');
        option.value = n.e164;
        option.textContent = `${n.e164} (${n.org})`;
        return option;
      }),
    );
    serviceSelect.dataset.options = options;
    if (selected) serviceSelect.value = selected;
  }
  $('handsets').replaceChildren(
    ...state.handsets.map((h) => {
      const option = document.createElement('option');
      option.value = h;
      return option;
    }),
  );
  const rendered = JSON.stringify(state.messages.map((m) => m.id));
  if (rendered === lastRendered) return;
  lastRendered = rendered;
  thread.replaceChildren(
    ...(state.messages.length === 0
      ? [
          Object.assign(document.createElement('p'), {
            className: 'muted',
            textContent: 'No texts on this phone yet.',
          }),
        ]
      : state.messages.map((m) => {
          const bubble = document.createElement('div');
          const mine = m.direction === 'from_handset';
          bubble.style.cssText = `margin:.4rem 0;padding:.5rem .75rem;border-radius:12px;max-width:80%;white-space:pre-wrap;${
            mine ? 'margin-left:auto;background:#0b5cad;color:#fff' : 'background:#e4e7eb'
          }`;
          bubble.textContent = m.body;
          bubble.title = `${mine ? 'to' : 'from'} ${m.service} at ${new Date(m.at).toLocaleString()}`;
          bubble.dataset.direction = m.direction;
          return bubble;
        })),
  );
  thread.scrollTop = thread.scrollHeight;
}

async function loop() {
  try {
    await refresh();
  } catch (error) {
    statusLine.textContent = `Cannot reach the relay: ${error.message}`;
  }
  setTimeout(loop, 1000);
}

handsetInput.addEventListener('change', () => {
  localStorage.setItem('sandbox.handset', handsetInput.value.trim());
  lastRendered = '';
  refresh();
});

$('compose').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!validHandset()) {
    statusLine.textContent = "Enter this phone's number, like 202-555-0143 or +44 20 7946 0958.";
    handsetInput.focus();
    return;
  }
  if (!serviceSelect.value) {
    statusLine.textContent = 'No business number exists yet: create an organisation first.';
    return;
  }
  statusLine.textContent = 'Sending…';
  const response = await fetch('/sandbox/phone/api/send', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      handset: handsetInput.value.trim(),
      service: serviceSelect.value,
      text: text.value,
    }),
  });
  if (response.ok) {
    const body = await response.json();
    statusLine.textContent =
      body.relayStatus === 200 ? 'Delivered to the relay.' : `The relay answered ${body.relayStatus}.`;
    text.value = '';
    localStorage.setItem('sandbox.handset', handsetInput.value.trim());
    await refresh();
  } else {
    const body = await response.json().catch(() => null);
    statusLine.textContent = body?.error?.message ?? `Failed (${response.status}).`;
  }
});

text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) $('compose').requestSubmit();
});

loop();
