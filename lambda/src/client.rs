//! The AWS clients (Step Functions, and the services of the endpoint and approval modes), configured from the
//! Lambda environment.
//!
//! Lambda gives every function its region and its role's credentials as environment variables
//! (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`). When they are there,
//! the client is built from them directly: no profile files, no IMDS, no credential-provider chain to
//! walk. Without them (another host, container credentials) the SDK's default chain is used instead.
//!
//! TLS trust anchors are loaded only when the endpoint can use TLS: an `http://` endpoint override (a
//! local emulator) gets a client with an empty trust store, which it never consults.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sfn::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

/// How many times a call is tried (the first try included) on throttling, 5xx and network errors.
pub const MAX_ATTEMPTS: u32 = 4;
/// Time allowed to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time allowed for one attempt (connect, send, answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// An AWS service the package calls; each has its own endpoint override in the environment
/// (`AWS_ENDPOINT_URL_<SERVICE>`, the SDKs' service-specific endpoint variables:
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    /// Step Functions.
    Sfn,
    /// DynamoDB.
    DynamoDb,
    /// KMS.
    Kms,
    /// SNS.
    Sns,
    /// SQS.
    Sqs,
    /// EventBridge.
    EventBridge,
    /// Secrets Manager.
    SecretsManager,
}

impl Service {
    /// Every service, in a fixed order.
    pub const ALL: [Service; 7] = [
        Service::Sfn,
        Service::DynamoDb,
        Service::Kms,
        Service::Sns,
        Service::Sqs,
        Service::EventBridge,
        Service::SecretsManager,
    ];

    /// The service-specific endpoint variable's name.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Service::Sfn => "AWS_ENDPOINT_URL_SFN",
            Service::DynamoDb => "AWS_ENDPOINT_URL_DYNAMODB",
            Service::Kms => "AWS_ENDPOINT_URL_KMS",
            Service::Sns => "AWS_ENDPOINT_URL_SNS",
            Service::Sqs => "AWS_ENDPOINT_URL_SQS",
            Service::EventBridge => "AWS_ENDPOINT_URL_EVENTBRIDGE",
            Service::SecretsManager => "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        }
    }
}

/// What the environment says about building the clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `Some(region)` when the region and the keys are in the environment (always, on Lambda).
    pub region: Option<String>,
    /// The endpoint overrides by service: `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, unless
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
    pub endpoints: Vec<(Service, String)>,
    /// `AWS_USE_FIPS_ENDPOINT`.
    pub use_fips: bool,
    /// `AWS_USE_DUALSTACK_ENDPOINT`.
    pub use_dual_stack: bool,
}

impl Plan {
    /// Reads the plan from an environment lookup (`std::env::var` in production).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Plan {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let flag = |name: &str| set(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let keys = set("AWS_ACCESS_KEY_ID").is_some() && set("AWS_SECRET_ACCESS_KEY").is_some();
        let endpoints = if flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            Vec::new()
        } else {
            Service::ALL
                .iter()
                .filter_map(|&s| {
                    set(s.endpoint_variable())
                        .or_else(|| set("AWS_ENDPOINT_URL"))
                        .map(|url| (s, url))
                })
                .collect()
        };
        Plan {
            region: set("AWS_REGION").filter(|_| keys),
            endpoints,
            use_fips: flag("AWS_USE_FIPS_ENDPOINT"),
            use_dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT"),
        }
    }

    /// The endpoint override of a service, if any.
    pub fn endpoint(&self, service: Service) -> Option<&str> {
        self.endpoints
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, url)| url.as_str())
    }

    /// Whether every call to the service goes over plain HTTP, so that no TLS trust anchor is ever needed.
    pub fn plaintext(&self, service: Service) -> bool {
        self.endpoint(service).is_some_and(|url| {
            url.get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
        })
    }
}

/// Standard retries (exponential backoff with jitter) for throttling, 5xx and network errors, bounded so
/// that a callback fails well inside the function's timeout.
fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// The SDK's own HTTPS client (rustls with aws-lc) with an empty trust store, for `http://` endpoints.
fn plaintext_http_client() -> SharedHttpClient {
    // Building a TLS context cannot fail today; if it ever does, the default (native roots) is only slower.
    let no_roots = TlsContext::builder()
        .with_trust_store(TrustStore::empty())
        .build()
        .unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(no_roots)
        .build_https()
}

/// Builds a client of one SDK crate the same way for every service: the region and keys of the environment
/// (or the default chain), bounded retries and timeouts, the service's endpoint override.
macro_rules! client {
    ($krate:ident, $plan:expr, $service:expr) => {{
        let plan: &Plan = $plan;
        let mut config = match &plan.region {
            Some(region) => $krate::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region.clone()))
                .credentials_provider(EnvironmentVariableCredentialsProvider::new())
                .use_fips(plan.use_fips)
                .use_dual_stack(plan.use_dual_stack),
            None => $krate::config::Builder::from(&aws_config::defaults(BehaviorVersion::latest()).load().await),
        };
        config = config.retry_config(retries()).timeout_config(timeouts());
        if let Some(url) = plan.endpoint($service) {
            config = config.endpoint_url(url);
        }
        if plan.plaintext($service) {
            config = config.http_client(plaintext_http_client());
        }
        $krate::Client::from_conf(config.build())
    }};
}

/// The Step Functions client the function answers with.
pub async fn build(plan: &Plan) -> aws_sdk_sfn::Client {
    client!(aws_sdk_sfn, plan, Service::Sfn)
}

/// The DynamoDB client (the approvals table).
pub async fn dynamodb(plan: &Plan) -> aws_sdk_dynamodb::Client {
    client!(aws_sdk_dynamodb, plan, Service::DynamoDb)
}

/// The KMS client (approval links' MACs).
pub async fn kms(plan: &Plan) -> aws_sdk_kms::Client {
    client!(aws_sdk_kms, plan, Service::Kms)
}

/// The SNS client (approval notifications to a topic).
pub async fn sns(plan: &Plan) -> aws_sdk_sns::Client {
    client!(aws_sdk_sns, plan, Service::Sns)
}

/// The SQS client (approval notifications to a queue).
pub async fn sqs(plan: &Plan) -> aws_sdk_sqs::Client {
    client!(aws_sdk_sqs, plan, Service::Sqs)
}

/// The EventBridge client (approval notifications to a bus).
pub async fn eventbridge(plan: &Plan) -> aws_sdk_eventbridge::Client {
    client!(aws_sdk_eventbridge, plan, Service::EventBridge)
}

/// The Secrets Manager client (the endpoint's HMAC secret).
pub async fn secrets_manager(plan: &Plan) -> aws_sdk_secretsmanager::Client {
    client!(aws_sdk_secretsmanager, plan, Service::SecretsManager)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(vars: &[(&str, &str)]) -> Plan {
        Plan::from_env(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    const LAMBDA: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];

    #[test]
    fn lambdas_environment_is_enough() {
        let p = plan(LAMBDA);
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!((p.endpoints, p.use_fips, p.use_dual_stack), (vec![], false, false));
    }

    #[test]
    fn without_region_or_keys_the_default_chain_is_used() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<_> = LAMBDA.iter().copied().filter(|(n, _)| *n != missing).collect();
            assert_eq!(plan(&vars).region, None, "without {missing}");
            let emptied: Vec<_> = LAMBDA
                .iter()
                .map(|&(n, v)| if n == missing { (n, "") } else { (n, v) })
                .collect();
            assert_eq!(plan(&emptied).region, None, "with an empty {missing}");
        }
    }

    #[test]
    fn the_service_endpoint_wins_and_can_be_ignored() {
        let mut vars = LAMBDA.to_vec();
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"));
        assert_eq!(plan(&vars).endpoint(Service::Sfn), Some("http://127.0.0.1:5000"));
        vars.push(("AWS_ENDPOINT_URL_SFN", "https://sfn.example"));
        assert_eq!(plan(&vars).endpoint(Service::Sfn), Some("https://sfn.example"));
        // Each service its own: the others keep the shared one.
        assert_eq!(plan(&vars).endpoint(Service::DynamoDb), Some("http://127.0.0.1:5000"));
        vars.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://sm.example"));
        assert_eq!(
            plan(&vars).endpoint(Service::SecretsManager),
            Some("https://sm.example")
        );
        assert!(plan(&vars).plaintext(Service::Kms));
        assert!(!plan(&vars).plaintext(Service::SecretsManager));
        vars.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"));
        assert_eq!(plan(&vars).endpoint(Service::Sfn), None);
        assert_eq!(plan(&vars).endpoints, vec![]);
    }

    #[test]
    fn only_an_http_endpoint_skips_the_trust_anchors() {
        let with = |url: &str| {
            let mut vars = LAMBDA.to_vec();
            vars.push(("AWS_ENDPOINT_URL", url));
            plan(&vars).plaintext(Service::Sfn)
        };
        assert!(with("http://127.0.0.1:5000"));
        assert!(with("HTTP://localhost"));
        assert!(!with("https://states.eu-west-1.amazonaws.com"));
        assert!(!with("http:/"));
        assert!(!plan(LAMBDA).plaintext(Service::Sfn));
    }

    #[test]
    fn fips_and_dual_stack_flags() {
        let mut vars = LAMBDA.to_vec();
        vars.push(("AWS_USE_FIPS_ENDPOINT", "true"));
        vars.push(("AWS_USE_DUALSTACK_ENDPOINT", "false"));
        let p = plan(&vars);
        assert_eq!((p.use_fips, p.use_dual_stack), (true, false));
    }
}
