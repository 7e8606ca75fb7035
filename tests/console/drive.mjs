// drive.mjs - drives the TSA web console (tsa-admin) in headless Chromium (Debian's chromium,
// through playwright-core) for tests/e2e/console.sh, logged in with an administrator's client
// certificate (Playwright's clientCertificates: a TLS client certificate for the origin).
//
//   node drive.mjs STEP   with the environment:
//     CONSOLE_URL    https://127.0.0.1:PORT (the HTTPS server of the stack)
//     CONSOLE_CERT, CONSOLE_KEY   the administrator's PEM certificate and key
//     CONSOLE_OUT    where the screenshots (STEP-*.png) and downloads go
//     CONSOLE_SERVICE, CONSOLE_POLICY, CONSOLE_POSITION, CONSOLE_PARAMS, CONSOLE_BAD_PARAMS
//                    (step edit): the filter to change, its new and a refused JSON
//     CONSOLE_SERIAL (step lookup): the serial of the token to look up
//   Steps: refused, dashboard, edit, lookup.  Prints one "ok STEP ..." line per check; exits 1 with
//   "FAIL: why" on the first failure.  Only loopback URLs are accepted.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (k) => {
    const v = process.env[k];
    if (v === undefined || v === '') throw new Error(`${k} is not set`);
    return v;
};
const fail = (why) => { console.log(`FAIL: ${why}`); process.exit(1); };

const step = process.argv[2];
const base = env('CONSOLE_URL');
if (!/^https:\/\/127\.0\.0\.1:\d+$/.test(base)) fail(`CONSOLE_URL must be https://127.0.0.1:PORT, not ${base}`);
const out = env('CONSOLE_OUT');
fs.mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 60000,
});
const context = await browser.newContext({
    // The stack's server certificate comes from the demo root; what is tested here is the
    // client side, so the server's is not checked by the browser.
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
    clientCertificates: [{
        origin: base,
        certPath: env('CONSOLE_CERT'),
        keyPath: env('CONSOLE_KEY'),
    }],
});
const page = await context.newPage();
page.setDefaultTimeout(30000);
const shot = async (name) => {
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
    console.log(`screenshot ${name}.png`);
};
const text = async (sel) => (await page.locator(sel).first().innerText()).trim();

try {
    if (step === 'refused') {
        // CONSOLE_CERT is a client certificate of the right CA that is no administrator's.
        const r = await page.goto(`${base}/admin/`);
        const body = await text('body');
        if (r.status() !== 403 || !body.includes('Not an administrator')) fail(`refused: HTTP ${r.status()}: ${body.slice(0, 200)}`);
        if (body.includes('Dashboard')) fail('a non-administrator sees the dashboard');
        console.log('ok refused: 403 Not an administrator');
        await shot('0-refused');
    } else if (step === 'dashboard') {
        const r = await page.goto(`${base}/admin/`);
        if (r.status() !== 200) fail(`dashboard: HTTP ${r.status()}: ${(await page.content()).slice(0, 300)}`);
        const body = await text('body');
        for (const want of ['Dashboard', 'Services, policies and filter chains', 'Signers',
            'Clock (as the clock gate sees it)', 'Tokens issued and refusals per minute',
            'Recent events', 'usable']) {
            if (!body.includes(want)) fail(`dashboard lacks '${want}'`);
        }
        console.log('ok dashboard: sections, a usable signer');
        await shot('1-dashboard');
    } else if (step === 'edit') {
        const svc = env('CONSOLE_SERVICE'), pol = env('CONSOLE_POLICY'), pos = env('CONSOLE_POSITION');
        // From the dashboard, follow the policy's link.
        await page.goto(`${base}/admin/`);
        await page.locator(`a[href="/admin/policy?service=${encodeURIComponent(svc)}&policy=${encodeURIComponent(pol)}"]`).first().click();
        await page.waitForURL(/\/admin\/policy\?/);
        await shot('2-policy');
        // A refused change first: the reason shown, nothing changed.
        const before = await page.locator(`#params-${pos}`).inputValue();
        await page.locator(`#params-${pos}`).fill(env('CONSOLE_BAD_PARAMS'));
        await page.locator(`#save-${pos}`).click();
        await page.waitForLoadState();
        const refused = await text('#result');
        if (!refused.startsWith('Refused, nothing was changed:')) fail(`a bad change was not refused: ${refused}`);
        if ((await page.locator(`#params-${pos}`).inputValue()) !== before) fail('a refused change altered the filter');
        console.log(`ok edit refused: ${refused}`);
        await shot('3-policy-refused');
        // The real change.
        await page.locator(`#params-${pos}`).fill(env('CONSOLE_PARAMS'));
        await page.locator(`#save-${pos}`).click();
        await page.waitForURL(/done=set/);
        const done = await text('#result');
        if (!done.includes('saved')) fail(`the change was not saved: ${done}`);
        console.log(`ok edit saved: ${await page.locator(`#params-${pos}`).inputValue()}`);
        await shot('4-policy-saved');
    } else if (step === 'lookup') {
        const serial = env('CONSOLE_SERIAL');
        await page.goto(`${base}/admin/`);
        await page.locator('header a[href="/admin/tokens"]').click();
        await page.locator('#serial').fill(serial);
        await page.locator('#find').click();
        await page.waitForURL(/\/admin\/tokens\?/);
        const rows = await page.locator('#results tr').count();
        if (rows !== 2) fail(`lookup by serial: ${rows - 1} rows`);
        await shot('5-tokens');
        await page.locator(`#results a[href="/admin/token?serial=${serial}"]`).click();
        await page.waitForURL(/\/admin\/token\?/);
        const verdict = await text('#verdict');
        if (!verdict.startsWith('verified')) fail(`token not verified: ${verdict}`);
        console.log(`ok token ${serial}: ${verdict}`);
        console.log(await text('#verification'));
        await shot('6-token');
        const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
        const file = path.join(out, dl.suggestedFilename());
        await dl.saveAs(file);
        console.log(`download ${file}`);
    } else {
        fail(`unknown step '${step}' (refused, dashboard, edit, lookup)`);
    }
} catch (e) {
    await page.screenshot({ path: path.join(out, `failed-${step}.png`), fullPage: true }).catch(() => {});
    fail(`${step}: ${e.message.split('\n')[0]}`);
} finally {
    await browser.close();
}
