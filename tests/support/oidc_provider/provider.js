// A real OpenID Connect provider on loopback for neodyme's e2e tests: panva's certified
// oidc-provider, configured here, started by tests/support/oidc_provider.py.
//
// Environment: PORT (0: a free one), CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma-
// separated). Prints one line "READY <issuer>" once it listens. A client registered for
// client_secret_basic may also use client_secret_post (oidc-provider takes the two alike).
//
// Plain http on 127.0.0.1 needs nothing relaxed in oidc-provider 9: an http issuer is
// accepted, a "web" client may register http redirect URIs for the code flow (only the
// implicit flow insists on https), and its cookies are Secure only when the request came
// over TLS. `proxy` stays off (X-Forwarded-* are not trusted), devInteractions is off (the
// interaction below replaces its login form).
//
// No login form: an interaction signs in "the current account" and grants the scopes at
// once, so a client that follows redirects goes from /auth straight back to its redirect
// URI with ?code&state. (A browser still signed in there as another account first gets
// oidc-provider's self-submitting "end the session" form.) The ID token carries sub and
// the protocol claims; email, email_verified and name are the userinfo endpoint's, as
// oidc-provider does for the code flow by default (conformIdTokenClaims).
//
// What the tests control, with POST /__control (JSON, any subset; answers 204):
//   account: {sub, email, email_verified, name}   who the next sign-ins are
//   decoy_jwks: true                               /jwks publishes another key (same kid)
//                                                  than the one that signs ID tokens
//   clock_offset_seconds: -7200                    the token endpoint's clock runs that far
//                                                  off: its ID tokens come out expired
// POST /__control/reset restores the defaults (Alice: alice-sub, alice@example.com,
// verified). POST /reg registers another client.

import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

const DEFAULT_ACCOUNT = {
  sub: 'alice-sub',
  email: 'alice@example.com',
  email_verified: true,
  name: 'Alice',
};

const state = { account: { ...DEFAULT_ACCOUNT }, decoyJwks: false, clockOffsetSeconds: 0 };

// The token endpoint's clock: Date.now (what oidc-provider reads, helpers/epoch_time.js)
// is patched once, and adds the offset only inside a /token request's own async context,
// so overlapping requests never see each other's clock nor restore the wrong one. Only
// /token: the whole process's clock off by hours would also expire the interaction
// cookies the moment they are set, and the sign-in would never reach the ID token.
const skew = new AsyncLocalStorage();
const realNow = Date.now;
Date.now = () => realNow() + (skew.getStore() ?? 0);

async function signingKey(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

function publicPart(jwk) {
  const { kty, n, e, kid, alg, use } = jwk;
  return { kty, n, e, kid, alg, use };
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

// Generated at each start: the tests never ship a private key. The decoy has the same kid,
// so a relying party fails on the signature, not on a missing key.
const key = await signingKey('test-key');
const decoy = publicPart(await signingKey('test-key'));

// The default prompts, plus: a browser whose session there is another account than the
// current one signs in again, so set_account() holds for a browser that keeps cookies.
function loginPolicy() {
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(new interactionPolicy.Check(
    'another_account',
    'the current account is another one',
    (ctx) => (ctx.oidc.session.accountId && ctx.oidc.session.accountId !== state.account.sub
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT),
  ));
  return policy;
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: (process.env.REDIRECT_URIS || '').split(',').filter(Boolean),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [key] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  scopes: ['openid', 'email', 'profile'],
  // Dynamic client registration (RFC 7591), open: a test whose redirect URI is known only
  // once its server has a port registers a client of its own.
  features: { devInteractions: { enabled: false }, registration: { enabled: true } },
  interactions: { policy: loginPolicy(), url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = state.account;
    return {
      accountId: id,
      async claims() {
        return { ...account, sub: id };
      },
    };
  },
  cookies: { keys: ['neodyme-test-provider-cookie-key'] },
});
// A 500 of the provider's own, to stderr (which OidcProvider keeps for its error report).
provider.on('server_error', (ctx, error) => console.error('server_error', error));

provider.use(async (ctx, next) => {
  if (ctx.path === '/jwks' && state.decoyJwks) {
    ctx.type = 'application/jwk-set+json';
    ctx.body = { keys: [decoy] };
    return;
  }
  if (ctx.path === '/token' && state.clockOffsetSeconds) {
    await skew.run(state.clockOffsetSeconds * 1000, next);
    return;
  }
  await next();
});

const callback = provider.callback();

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const accountId = state.account.sub;
  // A new grant each time: an earlier one may be another account's.
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid email profile');
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

async function control(req, res) {
  if (req.url === '/__control/reset') {
    Object.assign(state, { account: { ...DEFAULT_ACCOUNT }, decoyJwks: false, clockOffsetSeconds: 0 });
  } else {
    const body = await readJson(req);
    if (body.account) state.account = { ...DEFAULT_ACCOUNT, ...body.account };
    if ('decoy_jwks' in body) state.decoyJwks = Boolean(body.decoy_jwks);
    if ('clock_offset_seconds' in body) state.clockOffsetSeconds = Number(body.clock_offset_seconds);
  }
  res.writeHead(204);
  res.end();
}

server.on('request', (req, res) => {
  const handle = req.url.startsWith('/__control') && req.method === 'POST'
    ? control
    : req.url.startsWith('/interaction/')
      ? interaction
      : callback;
  Promise.resolve(handle(req, res)).catch((error) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(String(error));
  });
});

console.log(`READY ${issuer}`);
