//! Push, list and pull wasm components as OCI artifacts, in the layout that
//! `wkg` and the `oci-wasm` crate use: an OCI image manifest whose config has
//! the media type `application/vnd.wasm.config.v0+json` and whose single layer
//! is the component, `application/wasm`.
//!
//! oci-client is async; each call runs on a current-thread tokio runtime owned
//! by the [`Client`], so the rest of Airlock stays synchronous.

use super::config::Registry;
use super::{PackageName, PackageRef, RegistryError, sha256};
use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use semver::Version;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config's media type (wkg, oci-wasm).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

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

/// A connection to one registry.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    inner: oci_client::Client,
    registry: Registry,
    auth: RegistryAuth,
}

impl Client {
    /// A client for `registry` (anonymous unless wkg's config has credentials).
    pub fn new(registry: &Registry) -> Result<Self, RegistryError> {
        install_tls_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Remote {
                registry: registry.to_string(),
                action: "start a client for",
                reference: registry.to_string(),
                message: e.to_string(),
            })?;
        let config = ClientConfig {
            protocol: if registry.http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(120)),
            user_agent: concat!("airlock/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        };
        let auth = match &registry.auth {
            Some((u, p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            None => RegistryAuth::Anonymous,
        };
        Ok(Self {
            runtime,
            inner: oci_client::Client::new(config),
            registry: registry.clone(),
            auth,
        })
    }

    /// The registry this client talks to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The OCI reference of a package version: `HOST/[PREFIX/]ns/name:version`.
    pub fn reference(&self, package: &PackageRef) -> Reference {
        Reference::with_tag(
            self.registry.host.clone(),
            self.registry.repository(&package.name),
            package.version.to_string(),
        )
    }

    fn remote(
        &self,
        action: &'static str,
        reference: String,
        e: impl std::fmt::Display,
    ) -> RegistryError {
        let mut message = e.to_string();
        // An HTTPS handshake answered in plain HTTP.
        if !self.registry.http && message.contains("InvalidContentType") {
            message.push_str(&format!(
                " (the registry seems to speak plain HTTP: use `http://{}`, or `protocol = \"http\"` in wkg's config)",
                self.registry.host
            ));
        }
        RegistryError::Remote {
            registry: self.registry.to_string(),
            action,
            reference,
            message,
        }
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
        self.runtime
            .block_on(
                self.inner
                    .push(&reference, &layers, config, &self.auth, Some(manifest)),
            )
            .map_err(|e| self.remote("push", reference.whole(), error_chain(&e)))?;
        let manifest_digest = self
            .runtime
            .block_on(self.inner.fetch_manifest_digest(&reference, &self.auth))
            .map_err(|e| self.remote("read back", reference.whole(), error_chain(&e)))?;
        Ok(Pushed {
            reference: reference.whole(),
            digest,
            manifest_digest,
        })
    }

    /// The published versions of a package (tags that are not semver are
    /// ignored; a package that does not exist has none).
    pub fn versions(&self, package: &PackageName) -> Result<Vec<Version>, RegistryError> {
        let reference = Reference::with_tag(
            self.registry.host.clone(),
            self.registry.repository(package),
            "latest".into(),
        );
        match self
            .runtime
            .block_on(self.inner.list_tags(&reference, &self.auth, None, None))
        {
            Ok(tags) => {
                let mut versions: Vec<Version> = tags
                    .tags
                    .iter()
                    .filter_map(|t| Version::parse(t).ok())
                    .collect();
                versions.sort();
                Ok(versions)
            }
            Err(e) if is_not_found(&e) => Ok(Vec::new()),
            Err(e) => Err(self.remote(
                "list the versions of",
                format!("{}/{}", self.registry.host, reference.repository()),
                error_chain(&e),
            )),
        }
    }

    /// Pulls one version: its manifest must be a wasm artifact, and the
    /// component's bytes must hash to the manifest's layer digest.
    pub fn pull(&self, package: &PackageRef) -> Result<Pulled, RegistryError> {
        let reference = self.reference(package);
        let (manifest, _) = self
            .runtime
            .block_on(self.inner.pull_image_manifest(&reference, &self.auth))
            .map_err(|e| self.remote("pull", reference.whole(), error_chain(&e)))?;
        let not_wasm = |problem: String| RegistryError::NotWasm {
            reference: reference.whole(),
            problem,
        };
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(not_wasm(format!(
                "its config is `{}`, not `{CONFIG_MEDIA_TYPE}`",
                manifest.config.media_type
            )));
        }
        let [layer] = manifest.layers.as_slice() else {
            return Err(not_wasm(format!(
                "it has {} layers, not one",
                manifest.layers.len()
            )));
        };
        if layer.media_type != LAYER_MEDIA_TYPE {
            return Err(not_wasm(format!(
                "its layer is `{}`, not `{LAYER_MEDIA_TYPE}`",
                layer.media_type
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(layer.size).unwrap_or(0));
        self.runtime
            .block_on(self.inner.pull_blob(&reference, layer, &mut bytes))
            .map_err(|e| self.remote("pull", reference.whole(), error_chain(&e)))?;
        let digest = sha256(&bytes);
        if digest != layer.digest {
            return Err(RegistryError::Corrupt {
                reference: reference.whole(),
                expected: layer.digest.clone(),
                actual: digest,
            });
        }
        Ok(Pulled { bytes, digest })
    }
}

/// reqwest is built without a default TLS provider: make ring (no C
/// toolchain needed) the process default, unless one is installed already.
/// Needed before any `oci_client::Client` is built.
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

/// A repository the registry does not know (no version published yet).
fn is_not_found(e: &oci_client::errors::OciDistributionError) -> bool {
    use oci_client::errors::{OciDistributionError as E, OciErrorCode};
    match e {
        E::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|x| matches!(x.code, OciErrorCode::NameUnknown)),
        E::ServerError { code, .. } => *code == 404,
        _ => false,
    }
}
