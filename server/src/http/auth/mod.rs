//! Sign-in: GitHub (OAuth app) or a generic OpenID Connect provider, both
//! with the authorization code flow, PKCE (S256) and a `state` bound to the
//! session; roles from GitHub team membership (octocrab) or the provider's
//! groups claim, mapped by the org configuration's `[access]` section. Also
//! the request guards every response passes: same-origin writes and
//! security headers.

pub mod guard;
pub mod routes;

use crate::config::{AuthSettings, OidcEndpoints, Secret};
use crate::org_config::AccessConfig;
use app::domain::Role;
use app::ssr::ports::{Identity, IdentityError, SignInProvider};
use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, TokenUrl,
};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::OnceCell;

/// An OAuth2 client with its authorization and token endpoints set.
pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The person a provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    /// The provider's immutable subject: GitHub's numeric account id, the
    /// OIDC `sub` claim.
    pub subject: String,
    /// The OIDC issuer (empty for GitHub).
    pub issuer: String,
    /// The username, for display only.
    pub login: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The person the identity belongs to (configured links).
    pub person: String,
    /// The person's GitHub account id: own, or linked.
    pub github_id: Option<u64>,
    /// E-mail addresses the provider says are verified.
    pub emails: Vec<String>,
}

/// Why reading someone's identity failed, in words for the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    Revoked(String),
    Unavailable(String),
}

impl From<LookupError> for IdentityError {
    fn from(err: LookupError) -> Self {
        match err {
            LookupError::Revoked(m) => IdentityError::Revoked(m),
            LookupError::Unavailable(m) => IdentityError::Unavailable(m),
        }
    }
}

struct GitHubProvider {
    client: OAuthClient,
    api_url: String,
}

impl OidcProvider {
    /// Which provider issued the subject: the issuer URL, or the
    /// authorization endpoint when endpoints are configured one by one.
    fn issuer(&self) -> &str {
        match &self.endpoints {
            OidcEndpoints::Discover { issuer } => issuer,
            OidcEndpoints::Explicit { auth, .. } => auth,
        }
    }
}

struct OidcResolved {
    client: OAuthClient,
    userinfo: String,
}

struct OidcProvider {
    label: String,
    client_id: String,
    client_secret: Option<Secret>,
    endpoints: OidcEndpoints,
    scopes: Vec<String>,
    groups_claim: String,
    redirect: String,
    resolved: OnceCell<OidcResolved>,
}

/// The configured identity providers and the role mapping.
pub struct Directory {
    /// Seals provider tokens kept in sessions.
    cipher: aes_gcm::Aes256Gcm,
    github: Option<GitHubProvider>,
    oidc: Option<OidcProvider>,
    access: AccessConfig,
    refresh: Duration,
    max_age: Duration,
    http: reqwest::Client,
}

fn oauth_client(
    client_id: &str,
    secret: Option<&Secret>,
    auth: &str,
    token: &str,
    redirect: &str,
) -> Result<OAuthClient, String> {
    let client = BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_auth_uri(
            AuthUrl::new(auth.to_owned())
                .map_err(|e| format!("authorization URL {auth:?}: {e}"))?,
        )
        .set_token_uri(
            TokenUrl::new(token.to_owned()).map_err(|e| format!("token URL {token:?}: {e}"))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect.to_owned())
                .map_err(|e| format!("redirect URL {redirect:?}: {e}"))?,
        )
        // GitHub and most providers take the client's credentials in the body.
        .set_auth_type(AuthType::RequestBody);
    Ok(match secret {
        Some(s) => client.set_client_secret(ClientSecret::new(s.expose().to_owned())),
        None => client,
    })
}

#[derive(Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    verified: bool,
}

#[derive(Deserialize)]
struct Membership {
    state: String,
}

fn github_words(err: &octocrab::Error) -> String {
    match err {
        octocrab::Error::GitHub { source, .. } => {
            format!("GitHub answered {}: {}", source.status_code, source.message)
        }
        other => format!("GitHub could not be reached: {other}"),
    }
}

impl Directory {
    /// Builds the providers; `public_url` is where Gatehouse is reached,
    /// for the exact redirect URIs.
    pub fn new(
        settings: &AuthSettings,
        access: AccessConfig,
        public_url: &str,
    ) -> Result<Self, String> {
        let redirect = |id: &str| format!("{public_url}/auth/{id}/callback");
        let github = match &settings.github {
            None => None,
            Some(gh) => Some(GitHubProvider {
                client: oauth_client(
                    &gh.client_id,
                    Some(&gh.client_secret),
                    &format!("{}/login/oauth/authorize", gh.web_url),
                    &format!("{}/login/oauth/access_token", gh.web_url),
                    &redirect("github"),
                )?,
                api_url: gh.api_url.clone(),
            }),
        };
        let oidc = settings.oidc.as_ref().map(|o| OidcProvider {
            label: o.label.clone(),
            client_id: o.client_id.clone(),
            client_secret: o.client_secret.clone(),
            endpoints: o.endpoints.clone(),
            scopes: o.scopes.clone(),
            groups_claim: o.groups_claim.clone(),
            redirect: redirect("oidc"),
            resolved: OnceCell::new(),
        });
        let http = reqwest::Client::builder()
            // Following redirects would open the token exchange to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("gatehouse")
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        use aes_gcm::KeyInit;
        let cipher = match settings.token_key {
            Some(key) => aes_gcm::Aes256Gcm::new(&key.into()),
            None => {
                if settings.github.is_some() || settings.oidc.is_some() {
                    tracing::warn!("GATEHOUSE_TOKEN_KEY is not set: provider tokens in sessions are sealed with a key of this process only, so sign-ins end when it restarts and do not work across replicas");
                }
                let key = aes_gcm::Aes256Gcm::generate_key(&mut aes_gcm::aead::OsRng);
                aes_gcm::Aes256Gcm::new(&key)
            }
        };
        Ok(Self {
            cipher,
            github,
            oidc,
            access,
            refresh: settings.role_refresh,
            max_age: settings.session_max_age,
            http,
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Whether `provider` (`github` or `oidc`) is configured here: the
    /// only names the sign-in routes answer, and the only ones audited.
    pub fn offers(&self, provider: &str) -> bool {
        match provider {
            "github" => self.github.is_some(),
            "oidc" => self.oidc.is_some(),
            _ => false,
        }
    }

    /// The OAuth2 client and scopes for `provider` (`github` or `oidc`).
    pub async fn client(
        &self,
        provider: &str,
    ) -> Result<Option<(OAuthClient, Vec<String>)>, String> {
        match provider {
            "github" => Ok(self.github.as_ref().map(|g| {
                (
                    g.client.clone(),
                    vec![
                        "read:user".to_owned(),
                        "user:email".to_owned(),
                        "read:org".to_owned(),
                    ],
                )
            })),
            "oidc" => match &self.oidc {
                None => Ok(None),
                Some(o) => {
                    let resolved = self.resolve(o).await?;
                    Ok(Some((resolved.client.clone(), o.scopes.clone())))
                }
            },
            _ => Ok(None),
        }
    }

    async fn resolve<'a>(&self, o: &'a OidcProvider) -> Result<&'a OidcResolved, String> {
        o.resolved
            .get_or_try_init(|| async {
                let (auth, token, userinfo) = match &o.endpoints {
                    OidcEndpoints::Explicit {
                        auth,
                        token,
                        userinfo,
                    } => (auth.clone(), token.clone(), userinfo.clone()),
                    OidcEndpoints::Discover { issuer } => {
                        let url = format!("{issuer}/.well-known/openid-configuration");
                        let doc: Discovery = self
                            .http
                            .get(&url)
                            .send()
                            .await
                            .and_then(reqwest::Response::error_for_status)
                            .map_err(|e| format!("cannot read {url}: {e}"))?
                            .json()
                            .await
                            .map_err(|e| {
                                format!("{url} is not an OpenID discovery document: {e}")
                            })?;
                        let userinfo = doc
                            .userinfo_endpoint
                            .ok_or_else(|| format!("{url} names no userinfo_endpoint"))?;
                        (doc.authorization_endpoint, doc.token_endpoint, userinfo)
                    }
                };
                Ok(OidcResolved {
                    client: oauth_client(
                        &o.client_id,
                        o.client_secret.as_ref(),
                        &auth,
                        &token,
                        &o.redirect,
                    )?,
                    userinfo,
                })
            })
            .await
    }

    /// The roles of `identity` (`github:<id>`, `oidc:<sub>`), a member of
    /// `groups` (GitHub `org/team` slugs or OIDC groups). Admins are named
    /// by exact identity, never by a name.
    pub fn roles_for(&self, identity: &str, groups: &[String]) -> Vec<Role> {
        let mut roles: Vec<Role> = Vec::new();
        for mapping in &self.access.teams {
            if groups.contains(&mapping.group) && !roles.contains(&mapping.role) {
                roles.push(mapping.role.clone());
            }
        }
        if self.access.admins.iter().any(|a| a == identity) {
            roles.push(Role::Admin);
        }
        roles
    }

    /// Completes what a provider said with the roles of `groups` and the
    /// configured links.
    fn complete(&self, provider: &str, mut who: Identified, groups: &[String]) -> Identified {
        let key = format!("{provider}:{}", who.subject);
        who.roles = self.roles_for(&key, groups);
        who.person = self.access.person_of(&key);
        who.github_id = self.access.github_id_of(&key);
        who
    }

    /// Who holds `token` at `provider`, with their roles now.
    pub async fn identify(&self, provider: &str, token: &str) -> Result<Identified, LookupError> {
        match provider {
            "github" => self.github_identity(token).await,
            "oidc" => self.oidc_identity(token).await,
            other => Err(LookupError::Unavailable(format!(
                "unknown provider {other}"
            ))),
        }
    }

    async fn github_identity(&self, token: &str) -> Result<Identified, LookupError> {
        let gh = self
            .github
            .as_ref()
            .ok_or_else(|| LookupError::Unavailable("GitHub sign-in is not configured".into()))?;
        let octo = octocrab::Octocrab::builder()
            .base_uri(gh.api_url.as_str())
            .map_err(|e| LookupError::Unavailable(format!("GitHub API URL: {e}")))?
            .personal_token(token.to_owned())
            .build()
            .map_err(|e| LookupError::Unavailable(format!("GitHub client: {e}")))?;
        let user: GitHubUser = octo.get("/user", None::<&()>).await.map_err(|e| {
            match crate::adapters::github::status_of(&e) {
                Some(401) => LookupError::Revoked(github_words(&e)),
                _ => LookupError::Unavailable(github_words(&e)),
            }
        })?;
        let mut groups = Vec::new();
        for mapping in &self.access.teams {
            let Some((org, team)) = mapping.group.split_once('/') else {
                continue;
            };
            if groups.contains(&mapping.group) {
                continue;
            }
            let route = format!("/orgs/{org}/teams/{team}/memberships/{}", user.login);
            match octo.get::<Membership, _, ()>(&route, None).await {
                Ok(m) if m.state == "active" => groups.push(mapping.group.clone()),
                Ok(_) => {}
                Err(e) => match crate::adapters::github::status_of(&e) {
                    Some(404) => {}
                    Some(401) => return Err(LookupError::Revoked(github_words(&e))),
                    _ => return Err(LookupError::Unavailable(github_words(&e))),
                },
            }
        }
        // Verified e-mails, for the four-eyes rule; a token without the
        // user:email scope simply has none.
        let emails: Vec<String> = match octo
            .get::<Vec<GitHubEmail>, _, ()>("/user/emails", None)
            .await
        {
            Ok(list) => list
                .into_iter()
                .filter(|e| e.verified)
                .map(|e| e.email)
                .take(20)
                .collect(),
            Err(e) => {
                tracing::info!(error = %github_words(&e), "no verified e-mails read from GitHub");
                Vec::new()
            }
        };
        let display_name = user
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| user.login.clone());
        let said = Identified {
            subject: user.id.to_string(),
            issuer: String::new(),
            login: user.login,
            display_name,
            roles: Vec::new(),
            person: String::new(),
            github_id: None,
            emails,
        };
        Ok(self.complete("github", said, &groups))
    }

    async fn oidc_identity(&self, token: &str) -> Result<Identified, LookupError> {
        let o = self
            .oidc
            .as_ref()
            .ok_or_else(|| LookupError::Unavailable("single sign-on is not configured".into()))?;
        let resolved = self.resolve(o).await.map_err(LookupError::Unavailable)?;
        let response = self
            .http
            .get(&resolved.userinfo)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| {
                LookupError::Unavailable(format!("the identity provider could not be reached: {e}"))
            })?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(LookupError::Revoked(
                "the identity provider no longer accepts the sign-in".into(),
            ));
        }
        let claims: serde_json::Value = response
            .error_for_status()
            .map_err(|e| LookupError::Unavailable(format!("the identity provider refused: {e}")))?
            .json()
            .await
            .map_err(|e| LookupError::Unavailable(format!("unreadable userinfo: {e}")))?;
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(ToOwned::to_owned)
        };
        // The subject is the identity; the username is only shown.
        let subject = text("sub").ok_or_else(|| {
            LookupError::Unavailable("the identity provider named no user (no sub claim)".into())
        })?;
        if subject.len() > 255 {
            return Err(LookupError::Unavailable(
                "the identity provider's sub claim is longer than 255 characters".into(),
            ));
        }
        let login = text("preferred_username").unwrap_or_else(|| subject.clone());
        let groups: Vec<String> = claims
            .get(&o.groups_claim)
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(ToOwned::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let verified = claims
            .get("email_verified")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let emails = text("email").filter(|_| verified).into_iter().collect();
        let display_name = text("name").unwrap_or_else(|| login.clone());
        let said = Identified {
            subject,
            issuer: o.issuer().to_owned(),
            login,
            display_name,
            roles: Vec::new(),
            person: String::new(),
            github_id: None,
            emails,
        };
        Ok(self.complete("oidc", said, &groups))
    }
}

#[async_trait]
impl Identity for Directory {
    fn providers(&self) -> Vec<SignInProvider> {
        let mut out = Vec::new();
        if self.github.is_some() {
            out.push(SignInProvider {
                id: "github".into(),
                label: "GitHub".into(),
            });
        }
        if let Some(o) = &self.oidc {
            out.push(SignInProvider {
                id: "oidc".into(),
                label: o.label.clone(),
            });
        }
        out
    }

    fn refresh_interval(&self) -> Duration {
        self.refresh
    }

    fn session_max_age(&self) -> Duration {
        self.max_age
    }

    fn seal(&self, token: &str) -> String {
        use aes_gcm::aead::{Aead, AeadCore, OsRng};
        let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
        match self.cipher.encrypt(&nonce, token.as_bytes()) {
            Ok(sealed) => format!("v1.{}.{}", hex::encode(nonce), hex::encode(sealed)),
            // Encryption of a short token cannot fail; keep nothing if it does.
            Err(_) => String::new(),
        }
    }

    fn open(&self, sealed: &str) -> Option<String> {
        use aes_gcm::aead::Aead;
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(nonce), Some(text), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let nonce = hex::decode(nonce).ok().filter(|n| n.len() == 12)?;
        let text = hex::decode(text).ok()?;
        let plain = self
            .cipher
            .decrypt(aes_gcm::Nonce::from_slice(&nonce), text.as_ref())
            .ok()?;
        String::from_utf8(plain).ok()
    }

    async fn current_roles(
        &self,
        provider: &str,
        subject: &str,
        token: &str,
    ) -> Result<Vec<Role>, IdentityError> {
        let who = self.identify(provider, token).await?;
        if who.subject != subject {
            return Err(IdentityError::Revoked(format!(
                "the token now belongs to another account ({})",
                who.login
            )));
        }
        Ok(who.roles)
    }
}
