//! `endpoint.tf`, with `[callback] endpoint`: the callback endpoint's function URL and, for an HMAC endpoint without
//! `endpoint_secret`, the secret the module creates for its signing key.

use super::approvals::push_function_url;
use super::{address, aws_name};
use crate::emit::hcl::{Expr, File, number, raw, string};
use crate::model::{Endpoint, EndpointAuth, EndpointSecret, FunctionId, Model};

/// The file, when the spec asks for an endpoint.
pub(super) fn file(header: &str, model: &Model) -> Option<File> {
    let endpoint = model.endpoint.as_ref()?;
    let mut file = File::new(header);
    push_function_url(
        &mut file,
        url_comment(endpoint),
        FunctionId::Endpoint,
        endpoint.auth.url_auth(),
    );
    if let EndpointAuth::Hmac {
        secret: EndpointSecret::Created(name),
        ..
    } = &endpoint.auth
    {
        file.push_commented(
            "The endpoint's signing key, without a value: put one (at least 32 bytes, the module README says how). Until\n\
             then the endpoint refuses every request (503): it fails closed. Terraform never sees the value.",
            address::endpoint_secret()
                .declare()
                .checkov_skip(
                    "CKV2_AWS_57",
                    "a webhook's shared signing key: the sender holds the same value, so it is rotated by putting a new one (the endpoint also accepts AWSPREVIOUS), not by a rotation Lambda.",
                )
                .checkov_skip(
                    "CKV_AWS_149",
                    "encrypted with Secrets Manager's AWS managed key (aws/secretsmanager); only the endpoint's role may read it.",
                )
                .attr("name", aws_name(name))
                .attr(
                    "description",
                    string(&format!(
                        "HMAC-SHA256 signing key of the {} callback endpoint (at least 32 bytes).",
                        model.name
                    )),
                )
                .attr("recovery_window_in_days", number(30))
                .attr("tags", raw("local.tags")),
        );
    }
    Some(file)
}

fn url_comment(endpoint: &Endpoint) -> &'static str {
    match endpoint.auth {
        EndpointAuth::Iam => {
            "The callback endpoint's URL. AWS_IAM: Lambda checks each request's SigV4 signature and the caller's IAM\n\
             policy (endpoint_invoke_policy_json: lambda:InvokeFunctionUrl on this function only) before the function\n\
             runs; the function also refuses a request without an IAM caller. Its reserved concurrency throttles it."
        }
        EndpointAuth::Hmac { .. } => {
            "The callback endpoint's URL. NONE: a webhook sender has no AWS credentials; the function checks every\n\
             request's HMAC-SHA256 signature over its timestamp and body, within the replay window, before it parses\n\
             anything. Its reserved concurrency throttles it."
        }
    }
}

/// The ARN of the endpoint's HMAC secret, as HCL: the created secret's (Secrets Manager adds six random characters to
/// its name), or the `endpoint_secret_arn` input (the spec's ARN by default).
pub(super) fn secret_arn_of(model: &Model) -> Expr {
    match model.endpoint.as_ref().map(|e| &e.auth) {
        Some(EndpointAuth::Hmac {
            secret: EndpointSecret::Given(_),
            ..
        }) => super::var(crate::model::input::ENDPOINT_SECRET_ARN),
        _ => address::endpoint_secret().attr("arn"),
    }
}
