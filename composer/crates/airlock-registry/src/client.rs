//! Push, list and pull wasm components as OCI artifacts, in the layout that
//! `wkg` and the `oci-wasm` crate use: an OCI image manifest whose config has
//! the media type `application/vnd.wasm.config.v0+json` and whose single layer
//! is the component, `application/wasm`.
//!
//! The OCI distribution protocol is spoken here directly (reqwest, on a
//! current-thread tokio runtime owned by the [`Client`], so the rest of
//! Airlock stays synchronous), because a registry may be hostile:
//!
//! - Credentials go only to the registry's own origin (scheme, host, port),
//!   after it asks for them (`401`). A token service on another host
//!   (`WWW-Authenticate: Bearer realm=...`) is asked anonymously, unless wkg's
//!   config has credentials for that host (its own, over its own scheme).
//!   Redirects never go from HTTPS to plain HTTP, and reqwest drops the
//!   `Authorization` header on a redirect to another host.
//! - Everything read is bounded ([`Limits`]): a manifest (4 MiB), a tag list
//!   (8 MiB and 10,000 tags over all its pages), a component (its declared
//!   size, itself at most `AIRLOCK_MAX_COMPONENT_BYTES`, 256 MiB by default).
//!   A component is streamed to its destination and hashed as it arrives, and
//!   stopped as soon as it exceeds its declared size. Every request has a
//!   connect timeout and an overall one.

use super::config::{Credentials, Registry};
use super::{PackageName, PackageRef, RegistryError, digest_text, is_digest, sha256};
use oci_client::Reference;
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use reqwest::header::{
    ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, LINK, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode, Url};
use semver::Version;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// The manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config's media type (wkg, oci-wasm).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// The largest component Airlock downloads or reads from its cache, in
/// bytes (`K`, `M`, `G`, `KiB`, `MiB`, `GiB` suffixes accepted).
pub const MAX_COMPONENT_BYTES_VAR: &str = "AIRLOCK_MAX_COMPONENT_BYTES";
/// Seconds one registry request may take, body included.
pub const TIMEOUT_VAR: &str = "AIRLOCK_REGISTRY_TIMEOUT";
/// Seconds to establish a connection to a registry.
pub const CONNECT_TIMEOUT_VAR: &str = "AIRLOCK_CONNECT_TIMEOUT";

/// The most pages of one tag list that are followed (`Link: <...>; rel="next"`).
const MAX_TAG_PAGES: usize = 1000;

/// How much a registry may send, and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest component (its declared size and what is read): 256 MiB,
    /// or `AIRLOCK_MAX_COMPONENT_BYTES`.
    pub max_component_bytes: u64,
    /// The largest manifest (4 MiB, as registries themselves allow).
    pub max_manifest_bytes: u64,
    /// The most tags one package may list, over all pages.
    pub max_tags: usize,
    /// The most bytes one package's tag list may take, over all pages.
    pub max_tag_list_bytes: u64,
    /// To establish a connection: 30 s, or `AIRLOCK_CONNECT_TIMEOUT`.
    pub connect_timeout: Duration,
    /// One request from connecting to the end of its body: 10 min, or
    /// `AIRLOCK_REGISTRY_TIMEOUT`.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_component_bytes: 256 << 20,
            max_manifest_bytes: 4 << 20,
            max_tags: 10_000,
            max_tag_list_bytes: 8 << 20,
            connect_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(600),
        }
    }
}

impl Limits {
    /// The defaults, with `AIRLOCK_MAX_COMPONENT_BYTES`,
    /// `AIRLOCK_REGISTRY_TIMEOUT` and `AIRLOCK_CONNECT_TIMEOUT` when set; a
    /// value that does not parse is an error.
    pub fn from_env() -> Result<Self, RegistryError> {
        let mut limits = Self::default();
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        };
        if let Some((name, value)) = var(MAX_COMPONENT_BYTES_VAR) {
            limits.max_component_bytes =
                parse_size(&value).ok_or_else(|| RegistryError::Setting {
                    name,
                    value: value.clone(),
                    problem: "expected a positive number of bytes, e.g. `268435456` or `256MiB`"
                        .into(),
                })?;
        }
        for (name, slot) in [
            (TIMEOUT_VAR, &mut limits.timeout),
            (CONNECT_TIMEOUT_VAR, &mut limits.connect_timeout),
        ] {
            if let Some((name, value)) = var(name) {
                *slot = value
                    .trim()
                    .trim_end_matches('s')
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| RegistryError::Setting {
                        name,
                        value: value.clone(),
                        problem: "expected a positive number of seconds, e.g. `30`".into(),
                    })?;
            }
        }
        Ok(limits)
    }
}

/// `123`, `64K`, `64KiB`, `256M`, `256MiB`, `1G`, `1GiB` (powers of 1024).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = text[digits.len()..].to_ascii_lowercase();
    let shift = match unit.as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        _ => return None,
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(1 << shift).filter(|n| *n > 0)
}

/// `N bytes (X MiB)` for messages.
fn bytes_text(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{n} bytes ({:.1} MiB)", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{n} bytes")
    }
}

/// The config blob, field for field as oci-wasm's `WasmConfig` serializes it.
/// `created` is fixed (the Unix epoch) so that the same component published
/// twice gives the same manifest digest.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig<'a> {
    created: &'static str,
    author: Option<String>,
    architecture: &'static str,
    os: &'static str,
    layer_digests: Vec<String>,
    component: WasmComponent<'a>,
}

#[derive(Debug, Serialize)]
struct WasmComponent<'a> {
    exports: &'a [String],
    imports: &'a [String],
    target: Option<String>,
}

/// What a push left in the registry.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `HOST/ns/name:version`
    pub reference: String,
    /// The component layer's digest (the content digest of the component).
    pub digest: String,
    /// The OCI manifest's digest.
    pub manifest_digest: String,
}

/// A pulled component.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The component.
    pub bytes: Vec<u8>,
    /// Its digest, checked against the registry's manifest.
    pub digest: String,
}

/// A package version's component layer, as its manifest describes it
/// (checked: the wasm layout, a sha256 digest, a size within the limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// `sha256:<hex>`
    pub digest: String,
    /// The declared size in bytes.
    pub size: u64,
}

/// What a request was for: pull or push, on one repository (the scope of a token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Pull,
    Push,
}

/// How requests to the registry are authorized once it asked.
#[derive(Clone, PartialEq, Eq)]
enum Authorization {
    Basic(String, String),
    Bearer(String),
}

impl Authorization {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Self::Basic(user, password) => request.basic_auth(user, Some(password)),
            Self::Bearer(token) => request.bearer_auth(token),
        }
    }
}

/// Why one exchange with the registry failed (turned into a [`RegistryError`]
/// with the action and reference by [`Client::error`]).
enum Failure {
    /// Connecting, TLS, a timeout, a broken body.
    Http(reqwest::Error),
    /// The registry answered with an error status.
    Status { code: u16, message: String },
    /// Over a limit.
    Limit(String),
    /// An answer that makes no sense (missing header, bad JSON, ...).
    Protocol(String),
    /// Not a wasm artifact.
    NotWasm(String),
    /// The content does not hash to the announced digest.
    Corrupt { expected: String, actual: String },
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// A connection to one registry.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    registry: Registry,
    limits: Limits,
    /// The registry's origin, `scheme://host[:port]`: the only place its
    /// credentials go.
    base: Url,
    /// Authorization that the registry accepted, by repository and access.
    granted: Mutex<BTreeMap<(String, bool), Authorization>>,
}

impl Client {
    /// A client for `registry` (anonymous unless wkg's config has
    /// credentials), with the limits of [`Limits::from_env`].
    pub fn new(registry: &Registry) -> Result<Self, RegistryError> {
        Self::with_limits(registry, Limits::from_env()?)
    }

    /// A client for `registry` with explicit limits.
    pub fn with_limits(registry: &Registry, limits: Limits) -> Result<Self, RegistryError> {
        install_tls_provider();
        let failed = |message: String| RegistryError::Remote {
            registry: registry.to_string(),
            action: "start a client for",
            reference: registry.to_string(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            let downgrade = attempt
                .previous()
                .last()
                .is_some_and(|p| p.scheme() == "https")
                && attempt.url().scheme() != "https";
            if downgrade {
                attempt.error("refusing a redirect from HTTPS to plain HTTP")
            } else if attempt.previous().len() >= 10 {
                attempt.error("more than 10 redirects")
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .user_agent(concat!("airlock/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .redirect(redirects)
            .build()
            .map_err(|e| failed(error_chain(&e)))?;
        // docker.io's API lives at index.docker.io (as oci-client maps it).
        let api_host = match registry.host.as_str() {
            "docker.io" => "index.docker.io",
            h => h,
        };
        let base = Url::parse(&format!("{}://{api_host}/", registry.scheme())).map_err(|e| {
            RegistryError::BadRegistry {
                text: registry.to_string(),
                problem: e.to_string(),
            }
        })?;
        Ok(Self {
            runtime,
            http,
            registry: registry.clone(),
            limits,
            base,
            granted: Mutex::new(BTreeMap::new()),
        })
    }

    /// The registry this client talks to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The limits this client keeps to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The OCI reference of a package version: `HOST/[PREFIX/]ns/name:version`.
    pub fn reference(&self, package: &PackageRef) -> Reference {
        Reference::with_tag(
            self.registry.host.clone(),
            self.registry.repository(&package.name),
            package.version.to_string(),
        )
    }

    /// `https://HOST/v2/REPOSITORY/REST`
    fn url(&self, repository: &str, rest: &str) -> Result<Url, Failure> {
        self.base
            .join(&format!("v2/{repository}/{rest}"))
            .map_err(|e| Failure::Protocol(format!("cannot build a URL for `{repository}`: {e}")))
    }

    fn error(&self, action: &'static str, reference: String, failure: Failure) -> RegistryError {
        let registry = self.registry.to_string();
        let message = match failure {
            Failure::Limit(problem) => {
                return RegistryError::Limit {
                    registry,
                    reference,
                    problem,
                };
            }
            Failure::NotWasm(problem) => return RegistryError::NotWasm { reference, problem },
            Failure::Corrupt { expected, actual } => {
                return RegistryError::Corrupt {
                    reference,
                    expected,
                    actual,
                };
            }
            Failure::Status { code, message } => format!("the registry answered {code}: {message}"),
            Failure::Protocol(message) => message,
            Failure::Http(e) => {
                let mut message = error_chain(&e);
                if e.is_timeout() {
                    message.push_str(&if e.is_connect() {
                        format!(
                            " (no connection within {} s; `{CONNECT_TIMEOUT_VAR}` sets it)",
                            self.limits.connect_timeout.as_secs()
                        )
                    } else {
                        format!(
                            " (not answered within {} s; `{TIMEOUT_VAR}` sets it)",
                            self.limits.timeout.as_secs()
                        )
                    });
                }
                // An HTTPS handshake answered in plain HTTP.
                if !self.registry.http && message.contains("InvalidContentType") {
                    if self.registry.auth.is_some() {
                        message.push_str(&format!(
                            " (the registry does not answer in TLS; credentials for `{}` are configured for HTTPS, so Airlock does not use plain HTTP for it)",
                            self.registry.host
                        ));
                    } else {
                        message.push_str(&format!(
                            " (the registry seems to speak plain HTTP: use `http://{}`, or `protocol = \"http\"` in wkg's config)",
                            self.registry.host
                        ));
                    }
                }
                message
            }
        };
        RegistryError::Remote {
            registry,
            action,
            reference,
            message,
        }
    }

    /// Whether `url` is on the registry's own origin (scheme, host and port).
    fn is_registry(&self, url: &Url) -> bool {
        same_origin(url, &self.base)
    }

    /// Sends a request, answering the registry's `401` challenge once.
    /// Authorization is only ever attached to the registry's own origin.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        repository: &str,
        access: Access,
        headers: HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<reqwest::Response, Failure> {
        let key = (repository.to_string(), access == Access::Push);
        let attempt = |auth: Option<&Authorization>| {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = body {
                request = request.body(body.to_vec());
            }
            if let Some(auth) = auth
                && self.is_registry(url)
            {
                request = auth.apply(request);
            }
            request.send()
        };
        let cached = self
            .granted
            .lock()
            .expect("not poisoned")
            .get(&key)
            .cloned();
        let response = attempt(cached.as_ref()).await?;
        if response.status() != StatusCode::UNAUTHORIZED || !self.is_registry(url) {
            return Ok(response);
        }
        let Some(auth) = self.authenticate(&response, repository, access).await? else {
            return Ok(response);
        };
        if cached.as_ref() == Some(&auth) {
            return Ok(response);
        }
        let response = attempt(Some(&auth)).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            self.granted.lock().expect("not poisoned").insert(key, auth);
        }
        Ok(response)
    }

    /// Answers a `401`: Basic credentials for the registry itself when it asks
    /// for them (and wkg's config has them), or a token from its token
    /// service. `None`: nothing to answer with.
    async fn authenticate(
        &self,
        response: &reqwest::Response,
        repository: &str,
        access: Access,
    ) -> Result<Option<Authorization>, Failure> {
        let challenges: Vec<Challenge> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(Challenge::parse)
            .collect();
        let bearer = challenges.iter().find_map(|c| match c {
            Challenge::Bearer { realm, service } => Some((realm.clone(), service.clone())),
            Challenge::Basic => None,
        });
        let Some((realm, service)) = bearer else {
            if challenges.contains(&Challenge::Basic) {
                return Ok(self
                    .registry
                    .auth
                    .as_ref()
                    .map(|c| Authorization::Basic(c.username.clone(), c.password.clone())));
            }
            return Ok(None);
        };
        let mut realm_url = Url::parse(&realm).map_err(|e| {
            Failure::Protocol(format!("the token service `{realm}` is not a URL: {e}"))
        })?;
        if !matches!(realm_url.scheme(), "http" | "https") {
            return Err(Failure::Protocol(format!(
                "the token service `{realm}` is not an HTTP(S) URL"
            )));
        }
        let scope = match access {
            Access::Pull => format!("repository:{repository}:pull"),
            Access::Push => format!("repository:{repository}:pull,push"),
        };
        {
            let mut query = realm_url.query_pairs_mut();
            if let Some(service) = &service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &scope);
        }
        let credentials = self.credentials_for(&realm_url);
        let mut request = self.http.get(realm_url.clone());
        if let Some(c) = credentials {
            request = request.basic_auth(&c.username, Some(&c.password));
        }
        let mut answer = request.send().await?;
        let status = answer.status();
        let body = read_bounded(&mut answer, 1 << 20).await?.map_err(|_| {
            Failure::Limit("the token service's answer is larger than 1 MiB".into())
        })?;
        if !status.is_success() {
            let withheld = credentials.is_none() && self.registry.auth.is_some();
            let realm_host = host_key(&realm_url);
            let mut message = format!(
                "the token service `{}` answered {}: {}",
                origin(&realm_url),
                status.as_u16(),
                error_text(&body)
            );
            if withheld {
                message.push_str(&format!(
                    "; it is not the registry `{}` itself, so Airlock did not send it that registry's credentials (give `{realm_host}` its own `[registry.\"{realm_host}\".oci] auth` in wkg's config to authenticate there)",
                    self.registry.host
                ));
            }
            return Err(Failure::Status {
                code: status.as_u16(),
                message,
            });
        }
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = serde_json::from_slice(&body).map_err(|e| {
            Failure::Protocol(format!(
                "the token service `{}` answered something that is not a token: {e}",
                origin(&realm_url)
            ))
        })?;
        match token.token.or(token.access_token) {
            Some(t) if !t.is_empty() => Ok(Some(Authorization::Bearer(t))),
            _ => Err(Failure::Protocol(format!(
                "the token service `{}` answered without a token",
                origin(&realm_url)
            ))),
        }
    }

    /// The credentials that may go to a token service at `url`: the
    /// registry's when it is the registry's own origin; else those wkg's
    /// config has for that host, when their scheme allows; else none.
    fn credentials_for(&self, url: &Url) -> Option<&Credentials> {
        let allowed = |c: &Credentials| url.scheme() == "https" || c.http;
        if self.is_registry(url) {
            return self.registry.auth.as_ref().filter(|c| allowed(c));
        }
        self.registry
            .token_auth
            .get(&host_key(url))
            .filter(|c| allowed(c))
    }

    /// Pushes a component under `package`'s version tag; `imports` and
    /// `exports` go into the wasm config, `annotations` onto the manifest.
    pub fn push(
        &self,
        package: &PackageRef,
        bytes: &[u8],
        imports: &[String],
        exports: &[String],
        annotations: BTreeMap<String, String>,
    ) -> Result<Pushed, RegistryError> {
        let reference = self.reference(package);
        let digest = sha256(bytes);
        let config = WasmConfig {
            created: "1970-01-01T00:00:00Z",
            author: None,
            architecture: "wasm",
            os: "wasip2",
            layer_digests: vec![digest.clone()],
            component: WasmComponent {
                exports,
                imports,
                target: None,
            },
        };
        let config = Config::new(
            serde_json::to_vec(&config).expect("the config serializes"),
            CONFIG_MEDIA_TYPE.to_string(),
            None,
        );
        let layers = [ImageLayer::new(
            bytes.to_vec(),
            LAYER_MEDIA_TYPE.to_string(),
            None,
        )];
        let mut manifest = OciImageManifest::build(&layers, &config, Some(annotations));
        manifest.media_type = Some(MANIFEST_MEDIA_TYPE.to_string());
        let manifest = serde_json::to_vec(&manifest).expect("the manifest serializes");
        let repository = self.registry.repository(&package.name);
        let tag = package.version.to_string();
        self.runtime
            .block_on(async {
                self.push_blob(&repository, &config.data, &sha256(&config.data))
                    .await?;
                self.push_blob(&repository, bytes, &digest).await?;
                let url = self.url(&repository, &format!("manifests/{tag}"))?;
                let mut headers = HeaderMap::new();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(MANIFEST_MEDIA_TYPE));
                let response = self
                    .send(
                        Method::PUT,
                        &url,
                        &repository,
                        Access::Push,
                        headers,
                        Some(&manifest),
                    )
                    .await?;
                expect_success(response).await.map(drop)
            })
            .map_err(|f| self.error("push", reference.whole(), f))?;
        Ok(Pushed {
            reference: reference.whole(),
            digest,
            manifest_digest: sha256(&manifest),
        })
    }

    /// Uploads one blob unless the registry has it (monolithic upload:
    /// `POST .../blobs/uploads/`, then `PUT LOCATION?digest=...`).
    async fn push_blob(&self, repository: &str, bytes: &[u8], digest: &str) -> Result<(), Failure> {
        let url = self.url(repository, &format!("blobs/{digest}"))?;
        let head = self
            .send(
                Method::HEAD,
                &url,
                repository,
                Access::Push,
                HeaderMap::new(),
                None,
            )
            .await?;
        if head.status().is_success() {
            return Ok(());
        }
        let url = self.url(repository, "blobs/uploads/")?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        let started = self
            .send(Method::POST, &url, repository, Access::Push, headers, None)
            .await?;
        let started = expect_success(started).await?;
        let location = started
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Failure::Protocol("the registry started an upload without a `Location`".into())
            })?;
        let mut upload = url
            .join(location)
            .map_err(|e| Failure::Protocol(format!("bad upload `Location` `{location}`: {e}")))?;
        upload.query_pairs_mut().append_pair("digest", digest);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        let done = self
            .send(
                Method::PUT,
                &upload,
                repository,
                Access::Push,
                headers,
                Some(bytes),
            )
            .await?;
        expect_success(done).await.map(drop)
    }

    /// The published versions of a package (tags that are not semver are
    /// ignored; a package that does not exist has none). The list is bounded:
    /// at most [`Limits::max_tags`] tags and [`Limits::max_tag_list_bytes`]
    /// bytes over all its pages.
    pub fn versions(&self, package: &PackageName) -> Result<Vec<Version>, RegistryError> {
        let repository = self.registry.repository(package);
        let reference = format!("{}/{repository}", self.registry.host);
        self.runtime
            .block_on(self.tags(&repository))
            .map(|tags| {
                let mut versions: Vec<Version> =
                    tags.iter().filter_map(|t| Version::parse(t).ok()).collect();
                versions.sort();
                versions
            })
            .map_err(|f| self.error("list the versions of", reference, f))
    }

    async fn tags(&self, repository: &str) -> Result<Vec<String>, Failure> {
        #[derive(Deserialize)]
        struct TagList {
            tags: Option<Vec<String>>,
        }
        let mut url = self.url(repository, "tags/list")?;
        let mut tags = Vec::new();
        let mut budget = self.limits.max_tag_list_bytes;
        let mut pages = 0;
        let too_large = || {
            Failure::Limit(format!(
                "its tag list is larger than {} (at most {} tags are read)",
                bytes_text(self.limits.max_tag_list_bytes),
                self.limits.max_tags
            ))
        };
        loop {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
            let response = self
                .send(Method::GET, &url, repository, Access::Pull, headers, None)
                .await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(tags);
            }
            let mut response = expect_success(response).await?;
            let next = next_page(&response, &url);
            let body = read_bounded(&mut response, budget)
                .await?
                .map_err(|_| too_large())?;
            budget -= body.len() as u64;
            let page: TagList = serde_json::from_slice(&body)
                .map_err(|e| Failure::Protocol(format!("the tag list is not valid JSON: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            if tags.len() > self.limits.max_tags {
                return Err(Failure::Limit(format!(
                    "it lists more than {} tags",
                    self.limits.max_tags
                )));
            }
            pages += 1;
            match next {
                // The next page, on the registry itself only.
                Some(n) if self.is_registry(&n) && n != url => {
                    if pages >= MAX_TAG_PAGES {
                        return Err(Failure::Limit(format!(
                            "its tag list has more than {MAX_TAG_PAGES} pages"
                        )));
                    }
                    url = n;
                }
                _ => return Ok(tags),
            }
        }
    }

    /// Reads a version's manifest and checks that it is a wasm component
    /// within the size limit: its one layer's digest and declared size.
    pub fn layer(&self, package: &PackageRef) -> Result<Layer, RegistryError> {
        let reference = self.reference(package);
        self.runtime
            .block_on(self.manifest_layer(package))
            .map_err(|f| self.error("pull", reference.whole(), f))
    }

    async fn manifest_layer(&self, package: &PackageRef) -> Result<Layer, Failure> {
        let repository = self.registry.repository(&package.name);
        let url = self.url(&repository, &format!("manifests/{}", package.version))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(
                "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
            ),
        );
        let response = self
            .send(Method::GET, &url, &repository, Access::Pull, headers, None)
            .await?;
        let mut response = expect_success(response).await?;
        let limit = self.limits.max_manifest_bytes;
        let body = read_bounded(&mut response, limit).await?.map_err(|_| {
            Failure::Limit(format!("its manifest is larger than {}", bytes_text(limit)))
        })?;
        let manifest: OciImageManifest = serde_json::from_slice(&body)
            .map_err(|e| Failure::NotWasm(format!("its manifest is not an image manifest: {e}")))?;
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(Failure::NotWasm(format!(
                "its config is `{}`, not `{CONFIG_MEDIA_TYPE}`",
                manifest.config.media_type
            )));
        }
        let [layer] = manifest.layers.as_slice() else {
            return Err(Failure::NotWasm(format!(
                "it has {} layers, not one",
                manifest.layers.len()
            )));
        };
        if layer.media_type != LAYER_MEDIA_TYPE {
            return Err(Failure::NotWasm(format!(
                "its layer is `{}`, not `{LAYER_MEDIA_TYPE}`",
                layer.media_type
            )));
        }
        if !is_digest(&layer.digest) {
            return Err(Failure::NotWasm(format!(
                "its layer's digest `{}` is not `sha256:` and 64 lowercase hex digits",
                layer.digest.chars().take(100).collect::<String>()
            )));
        }
        let size = u64::try_from(layer.size).map_err(|_| {
            Failure::NotWasm(format!(
                "its layer declares a negative size ({})",
                layer.size
            ))
        })?;
        let max = self.limits.max_component_bytes;
        if size > max {
            return Err(Failure::Limit(format!(
                "its component is declared as {}, more than the limit of {} (`{MAX_COMPONENT_BYTES_VAR}` raises it); nothing was downloaded",
                bytes_text(size),
                bytes_text(max)
            )));
        }
        Ok(Layer {
            digest: layer.digest.clone(),
            size,
        })
    }

    /// Downloads a layer into `out` as it arrives, hashing it: stopped as
    /// soon as the body exceeds the declared size; a short body or one that
    /// does not hash to the layer's digest is an error. On error, `out` may
    /// hold part of the body: discard it.
    pub fn download(
        &self,
        package: &PackageRef,
        layer: &Layer,
        out: &mut dyn Write,
    ) -> Result<(), RegistryError> {
        let reference = self.reference(package);
        self.runtime
            .block_on(self.blob(package, layer, out))
            .map_err(|f| self.error("pull", reference.whole(), f))
    }

    async fn blob(
        &self,
        package: &PackageRef,
        layer: &Layer,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        let repository = self.registry.repository(&package.name);
        let url = self.url(&repository, &format!("blobs/{}", layer.digest))?;
        let response = self
            .send(
                Method::GET,
                &url,
                &repository,
                Access::Pull,
                HeaderMap::new(),
                None,
            )
            .await?;
        let mut response = expect_success(response).await?;
        let declared = layer.size;
        if let Some(length) = response.content_length()
            && length > declared
        {
            return Err(Failure::Limit(format!(
                "the registry announces a body of {} for a component its manifest declares as {}; nothing was read",
                bytes_text(length),
                bytes_text(declared)
            )));
        }
        let mut hasher = sha2::Sha256::new();
        let mut received: u64 = 0;
        while let Some(chunk) = response.chunk().await? {
            received += chunk.len() as u64;
            if received > declared {
                return Err(Failure::Limit(format!(
                    "the registry sends more than the {} its manifest declares; stopped after {}",
                    bytes_text(declared),
                    bytes_text(received)
                )));
            }
            hasher.update(&chunk);
            out.write_all(&chunk)
                .map_err(|e| Failure::Protocol(format!("cannot store what arrived: {e}")))?;
        }
        if received < declared {
            return Err(Failure::Protocol(format!(
                "the body ended after {} of the {} its manifest declares",
                bytes_text(received),
                bytes_text(declared)
            )));
        }
        let actual = digest_text(hasher.finalize());
        if actual != layer.digest {
            return Err(Failure::Corrupt {
                expected: layer.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Pulls one version into memory: its manifest must be a wasm artifact
    /// within the limits, and the component's bytes must hash to the
    /// manifest's layer digest.
    pub fn pull(&self, package: &PackageRef) -> Result<Pulled, RegistryError> {
        let layer = self.layer(package)?;
        let mut bytes = Vec::new();
        self.download(package, &layer, &mut bytes)?;
        Ok(Pulled {
            bytes,
            digest: layer.digest,
        })
    }
}

/// One `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    /// `Basic realm="..."` or `Bearer realm="...",service="...",scope="..."`.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Self::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = auth_params(rest);
        let realm = params.get("realm")?.clone();
        Some(Self::Bearer {
            realm,
            service: params.get("service").cloned(),
        })
    }
}

/// `key="value", key=value` (RFC 7235 auth-params), keys lowercase.
fn auth_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.entry(key).or_insert(value);
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// The next page of a tag list (`Link: <...>; rel="next"`), relative to `url`.
fn next_page(response: &reqwest::Response, url: &Url) -> Option<Url> {
    let link = response.headers().get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| url.join(target).ok())?
    })
}

/// Reads a body up to `limit` bytes: `Err(())` inside as soon as it is longer.
async fn read_bounded(
    response: &mut reqwest::Response,
    limit: u64,
) -> Result<Result<Vec<u8>, ()>, Failure> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Ok(Err(()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Ok(Err(()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body))
}

/// The response if its status is a success, else its error (the OCI error
/// envelope's messages when there is one, from at most 16 KiB of body).
async fn expect_success(mut response: reqwest::Response) -> Result<reqwest::Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = read_bounded(&mut response, 16 << 10)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    Err(Failure::Status {
        code: status.as_u16(),
        message: error_text(&body),
    })
}

/// What an error body says: the OCI envelope's `code: message`s, else its
/// text (shortened), else `no details`.
fn error_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        code: Option<String>,
        message: Option<String>,
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body)
        && !envelope.errors.is_empty()
    {
        return envelope
            .errors
            .iter()
            .map(|e| match (&e.code, &e.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => "unknown error".into(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if text.trim().is_empty() {
        "no details".into()
    } else {
        text.trim().to_string()
    }
}

/// Same scheme, host and port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `host[:port]` as wkg's config keys registries (the port only when given).
fn host_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// `scheme://host[:port]`
fn origin(url: &Url) -> String {
    format!("{}://{}", url.scheme(), host_key(url))
}

/// reqwest is built without a default TLS provider: make ring (no C
/// toolchain needed) the process default, unless one is installed already.
/// Needed before any HTTP client is built.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An error with its causes, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("256MiB"), Some(256 << 20));
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("64k"), Some(64 << 10));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }

    #[test]
    fn parses_challenges() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into())
            })
        );
        assert_eq!(
            Challenge::parse(r#"bearer realm=https://x/t, service="a\"b""#),
            Some(Challenge::Bearer {
                realm: "https://x/t".into(),
                service: Some("a\"b".into())
            })
        );
        assert_eq!(Challenge::parse("Bearer service=x"), None);
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn origins_and_host_keys() {
        let a = Url::parse("https://ghcr.io/token").unwrap();
        let b = Url::parse("https://ghcr.io:443/v2/").unwrap();
        assert!(same_origin(&a, &b));
        assert_eq!(host_key(&b), "ghcr.io");
        let c = Url::parse("http://ghcr.io/token").unwrap();
        assert!(!same_origin(&a, &c));
        let d = Url::parse("http://127.0.0.1:5000/token").unwrap();
        let e = Url::parse("http://127.0.0.1:5001/token").unwrap();
        assert!(!same_origin(&d, &e));
        assert_eq!(host_key(&d), "127.0.0.1:5000");
        assert_eq!(origin(&d), "http://127.0.0.1:5000");
    }

    fn client(registry: &str, auth: bool, token_auth: &[(&str, bool)]) -> Client {
        let mut r = Registry::parse(registry).unwrap();
        let creds = |http| Credentials {
            username: "u".into(),
            password: "p".into(),
            http,
        };
        if auth {
            r.auth = Some(creds(r.http));
        }
        for (host, http) in token_auth {
            r.token_auth.insert(host.to_string(), creds(*http));
        }
        Client::with_limits(&r, Limits::default()).unwrap()
    }

    #[test]
    fn credentials_go_to_their_own_origin_only() {
        let c = client("http://127.0.0.1:5000", true, &[("127.0.0.1:6000", false)]);
        let url = |u: &str| Url::parse(u).unwrap();
        assert!(
            c.credentials_for(&url("http://127.0.0.1:5000/token"))
                .is_some()
        );
        // Another port is another host: nothing, not even over HTTPS.
        assert!(
            c.credentials_for(&url("http://127.0.0.1:5001/token"))
                .is_none()
        );
        // A host with its own HTTPS credentials: over HTTPS only.
        assert!(
            c.credentials_for(&url("https://127.0.0.1:6000/token"))
                .is_some()
        );
        assert!(
            c.credentials_for(&url("http://127.0.0.1:6000/token"))
                .is_none()
        );

        let c = client("ghcr.io/team", true, &[]);
        assert!(c.credentials_for(&url("https://ghcr.io/token")).is_some());
        assert!(c.credentials_for(&url("http://ghcr.io/token")).is_none());
        assert!(
            c.credentials_for(&url("https://auth.ghcr.io/token"))
                .is_none()
        );
    }

    #[test]
    fn default_limits() {
        let d = Limits::default();
        assert_eq!(d.max_component_bytes, 256 << 20);
        assert_eq!(d.max_tags, 10_000);
        assert_eq!(d.max_tag_list_bytes, 8 << 20);
        assert_eq!(d.connect_timeout, Duration::from_secs(30));
        assert_eq!(d.timeout, Duration::from_secs(600));
    }

    #[test]
    fn error_bodies_are_summarized() {
        assert_eq!(
            error_text(
                br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}"#
            ),
            "NAME_UNKNOWN: repository name not known"
        );
        assert_eq!(error_text(b""), "no details");
        assert_eq!(error_text(&[b'x'; 1000]).len(), 200);
    }
}
