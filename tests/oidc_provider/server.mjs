// A local OpenID Provider for the tests: oidc-provider on http://127.0.0.1:<port>.
//
// Configuration (environment; `--port N` on the command line overrides OIDC_PORT):
//   OIDC_PORT                 port to listen on, 0 (default) lets the OS pick
//   OIDC_REDIRECT_URIS        space- or comma-separated redirect URIs of both default clients
//                             (default http://127.0.0.1/callback; loopback ports are not compared)
//   OIDC_CLIENTS              a JSON array of client metadata replacing the default clients
//   OIDC_CLIENT_SECRET        the confidential client's secret (default s3cret)
//   OIDC_ACCESS_TOKEN_TTL     seconds (default 3600)
//   OIDC_ID_TOKEN_TTL         seconds (default 3600)
//   OIDC_REFRESH_TOKEN_TTL    seconds (default 14 days)
//   OIDC_DEVICE_CODE_TTL      seconds (default 600)
//   OIDC_REFRESH_TOKENS       "offline_access" (default: only when the offline_access scope was
//                             granted) or "always" (to every client allowed the refresh_token grant)
//   OIDC_EXIT_ON_STDIN_EOF    "1": exit when stdin closes (so it never outlives the test process)
//
// On listening it prints one JSON line on stdout: {"issuer": "http://127.0.0.1:40123"}.
// Every HTTP request is logged as one JSON line on stderr, prefixed with "request ".
//
// Test clock: POST /--clock/advance?seconds=N moves this process's Date.now() N seconds on (204),
// so tokens, codes and sessions expire without the test waiting. oidc-provider reads the time
// through Date.now() only (its epochTime helper, its memory adapter's expiry, its cookies).

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT];
const SCOPES = ['openid', 'email', 'profile', 'offline_access'];
const CLOCK_PATH = '/--clock/advance';

let clockOffsetMs = 0;
const realNow = Date.now;
Date.now = () => realNow() + clockOffsetMs;

// The test clock's endpoint; true when it answered the request.
function clockControl(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method !== 'POST' || url.pathname !== CLOCK_PATH) return false;
  const seconds = Number(url.searchParams.get('seconds'));
  if (!Number.isFinite(seconds) || seconds < 0) {
    res.writeHead(400).end('seconds must be a non-negative number');
  } else {
    clockOffsetMs += seconds * 1000;
    res.writeHead(204).end();
  }
  return true;
}

function intFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

function portFromArgs() {
  const at = process.argv.indexOf('--port');
  if (at !== -1 && process.argv[at + 1] !== undefined) return Number.parseInt(process.argv[at + 1], 10);
  return intFromEnv('OIDC_PORT', 0);
}

function redirectUris() {
  const raw = process.env.OIDC_REDIRECT_URIS || 'http://127.0.0.1/callback';
  return raw.split(/[\s,]+/).filter(Boolean);
}

function defaultClients() {
  const common = {
    application_type: 'native',
    redirect_uris: redirectUris(),
    grant_types: GRANT_TYPES,
    response_types: ['code'],
    scope: SCOPES.join(' '),
  };
  return [
    { ...common, client_id: 'cred-export-test', token_endpoint_auth_method: 'none' },
    {
      ...common,
      client_id: 'cred-export-secret',
      client_secret: process.env.OIDC_CLIENT_SECRET || 's3cret',
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ];
}

function clients() {
  return process.env.OIDC_CLIENTS ? JSON.parse(process.env.OIDC_CLIENTS) : defaultClients();
}

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

// Any login name signs in; the account id (the `sub`) is that name.
async function findAccount(_ctx, id) {
  const email = id.includes('@') ? id : `${id}@example.com`;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email,
        email_verified: true,
        name: email.split('@')[0],
        preferred_username: email.split('@')[0],
      };
    },
  };
}

function issueRefreshToken() {
  const always = process.env.OIDC_REFRESH_TOKENS === 'always';
  return async (_ctx, client, source) => client.grantTypeAllowed('refresh_token')
    && (always || source.scopes.has('offline_access'));
}

function configuration() {
  const hour = 3600;
  return {
    clients: clients(),
    findAccount,
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    scopes: SCOPES,
    responseTypes: ['code'],
    // Scope-requested claims (email) go into the ID token, not only to userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: false },
    },
    issueRefreshToken: issueRefreshToken(),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: intFromEnv('OIDC_ACCESS_TOKEN_TTL', hour),
      IdToken: intFromEnv('OIDC_ID_TOKEN_TTL', hour),
      RefreshToken: intFromEnv('OIDC_REFRESH_TOKEN_TTL', 14 * 24 * hour),
      DeviceCode: intFromEnv('OIDC_DEVICE_CODE_TTL', 600),
      AuthorizationCode: 300,
      Interaction: hour,
      Session: 14 * 24 * hour,
      Grant: 14 * 24 * hour,
    },
  };
}

// The built-in pages @import a web font; nothing here may leave the machine, so drop it.
async function stripWebFonts(ctx, next) {
  await next();
  if (typeof ctx.body === 'string' && ctx.type === 'text/html') {
    ctx.body = ctx.body.replace(/@import url\(https?:[^)]*\);?/g, '');
  }
}

function logRequests(ctx, next) {
  const started = Date.now();
  const line = () => {
    const entry = {
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      route: ctx.oidc?.route ?? null,
      client_id: ctx.oidc?.client?.clientId ?? null,
      grant_type: ctx.oidc?.params?.grant_type ?? null,
      error: (ctx.body && typeof ctx.body === 'object' && ctx.body.error) || null,
      ms: Date.now() - started,
    };
    process.stderr.write(`request ${JSON.stringify(entry)}\n`);
  };
  return next().finally(line);
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function main() {
  const server = http.createServer();
  const port = await listen(server, portFromArgs());
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.use(logRequests);
  provider.use(stripWebFonts);
  const answer = provider.callback();
  server.on('request', (req, res) => clockControl(req, res) || answer(req, res));
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.env.OIDC_EXIT_ON_STDIN_EOF === '1') {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
