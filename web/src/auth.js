// Sign-in. Locally (config.auth.mode "dev") a user picker asks the local
// server for a token (POST /dev/token). Deployed ("oidc"), the OpenID
// Connect authorization code flow with PKCE against the issuer the API's
// JWT authorizer trusts, through oidc-client-ts; the access token is what
// the API gets.
const devKey = 'portal.devToken';

/** Session is the signed-in user's way to get a token, and to sign out. */
export async function startSession(config) {
  return config.auth?.mode === 'oidc' ? oidcSession(config) : devSession(config);
}

function devSession(config) {
  const stored = () => {
    const t = JSON.parse(sessionStorage.getItem(devKey) ?? 'null');
    return t && t.expiresAt > Date.now() + 10_000 ? t : null;
  };
  return {
    mode: 'dev',
    users: config.auth?.users ?? [],
    signedIn: Boolean(stored()),
    token: async () => stored()?.token ?? '',
    async signIn(sub) {
      const res = await fetch(`${(config.apiUrl ?? '').replace(/\/$/, '')}/dev/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sub }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok || !body.token) throw new Error(body?.error?.message ?? 'the local server gave no token');
      sessionStorage.setItem(devKey, JSON.stringify({ token: body.token, expiresAt: Date.now() + body.expiresIn * 1000 }));
    },
    async signOut() {
      sessionStorage.removeItem(devKey);
    },
  };
}

async function oidcSession(config) {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  const a = config.auth;
  const manager = new UserManager({
    authority: a.issuer,
    client_id: a.clientId,
    redirect_uri: a.redirectUri || `${location.origin}/`,
    post_logout_redirect_uri: a.redirectUri || `${location.origin}/`,
    response_type: 'code',
    scope: a.scope || 'openid email profile',
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    automaticSilentRenew: false,
  });
  const params = new URLSearchParams(location.search);
  if (params.has('code') && params.has('state')) {
    await manager.signinRedirectCallback();
    // The code is spent: keep it out of the address bar and the history.
    history.replaceState(null, '', location.pathname);
  } else if (params.has('error')) {
    history.replaceState(null, '', location.pathname);
    throw new Error(`the identity provider refused the sign-in: ${params.get('error_description') || params.get('error')}`);
  }
  let user = await manager.getUser();
  return {
    mode: 'oidc',
    signedIn: Boolean(user && !user.expired),
    token: async () => {
      user = await manager.getUser();
      return user && !user.expired ? user.access_token : '';
    },
    signIn: () => manager.signinRedirect(),
    async signOut() {
      await manager.removeUser();
    },
  };
}
