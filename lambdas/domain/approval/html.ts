/** Escapes text for HTML element content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:920px;margin:24px auto;padding:0 16px}
header{background:#1d2330;color:#fff;padding:14px 20px}header b{font-size:17px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin:14px 0}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 10px;color:#3b4456}h3{font-size:15px;margin:14px 0 4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef0f4;vertical-align:top}
th{font-weight:600;color:#5b6476;font-size:13px}
.pass{color:#137333;font-weight:600}.fail{color:#b3261e;font-weight:600}.muted{color:#6b7385}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;background:#eef0f4}
.sev-high,.sev-critical{background:#fde7e7;color:#b3261e}.sev-medium{background:#fff4d6;color:#8a5a00}.sev-low,.sev-none{background:#e7f5ea;color:#137333}
textarea{width:100%;min-height:70px;font:inherit;padding:8px;box-sizing:border-box;border:1px solid #c8cdd6;border-radius:6px}
button{font:inherit;font-weight:600;padding:9px 22px;border-radius:6px;border:0;cursor:pointer;margin-right:10px}
.approve{background:#137333;color:#fff}.reject{background:#b3261e;color:#fff}
.notice{font-size:18px;margin:6px 0}code{background:#eef0f4;padding:1px 5px;border-radius:4px}
`;

/** A complete, self-contained page (inline CSS, no scripts, no external assets). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><header><b>mlcycle</b> · model promotion</header><main>${body}</main></body></html>
`;
}

/** A page for an outcome (refused, expired, already decided, done). */
export function messagePage(title: string, message: string, detail = ''): string {
  return page(
    title,
    `<section><h1>${esc(title)}</h1><p class="notice">${esc(message)}</p>${detail ? `<p class="muted">${esc(detail)}</p>` : ''}</section>`,
  );
}
