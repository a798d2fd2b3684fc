//! `variables.tf`: the module's inputs, as the model lists them, each held to its spec key's rule.

use crate::emit::hcl::{Block, Expr, File, boolean, raw, string};
use crate::limits;
use crate::model::{InputKind, Model};
use crate::spec::keys::{
    KMS_ALIAS_FORM, KMS_ALIAS_PATTERN, KMS_KEY_ARN_FORM, KMS_KEY_ARN_PATTERN, LOG_RETENTION_DAYS, MAX_KMS_ALIAS_CHARS,
    MAX_NAME_CHARS, resource_name_pattern, retention_help,
};

/// The Terraform type of an input.
pub fn type_of(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Name { .. }
        | InputKind::OptionalPolicyArn
        | InputKind::OptionalPath
        | InputKind::OptionalVersionArn
        | InputKind::Choice { .. }
        | InputKind::KmsKeyArn { .. }
        | InputKind::KmsKeyAlias { .. }
        | InputKind::SecretArn { .. } => "string",
        InputKind::Tags { .. } => "map(string)",
        InputKind::ArnList | InputKind::AccountIds => "list(string)",
        InputKind::Flag { .. } => "bool",
        InputKind::RetentionDays { .. } | InputKind::WholeNumber { .. } => "number",
    }
}

/// The default of an input, as HCL.
pub fn default_of(kind: &InputKind) -> String {
    match kind {
        InputKind::Name { default }
        | InputKind::KmsKeyArn { default }
        | InputKind::KmsKeyAlias { default }
        | InputKind::SecretArn { default } => hcl_string(default),
        InputKind::Choice { default, .. } => hcl_string(default),
        InputKind::Tags { .. } => "{}".into(),
        InputKind::OptionalPolicyArn | InputKind::OptionalPath | InputKind::OptionalVersionArn => "null".into(),
        InputKind::ArnList | InputKind::AccountIds => "[]".into(),
        InputKind::Flag { default } => default.to_string(),
        InputKind::RetentionDays { default } => default.to_string(),
        InputKind::WholeNumber { default, .. } => default.map_or("null".into(), |n| n.to_string()),
    }
}

/// Whether a caller's null means "the default" (`nullable = false`), so that
/// `x = var.env == "prod" ? 512 : null` works: for every input but those whose null is a value of its own
/// (reserved concurrency: unreserved; `permissions_boundary` and `callback_lambda_zip`: none, the module's
/// package, which is their default anyway) and `name`, where a null fails the name's validation rather than
/// silently taking the spec's name. `tags` and `alarm_actions` then always hold a map and a list.
fn null_is_default(kind: &InputKind) -> bool {
    match kind {
        InputKind::Choice { .. }
        | InputKind::Flag { .. }
        | InputKind::RetentionDays { .. }
        | InputKind::KmsKeyArn { .. }
        | InputKind::KmsKeyAlias { .. }
        | InputKind::SecretArn { .. }
        | InputKind::Tags { .. }
        | InputKind::ArnList
        | InputKind::AccountIds => true,
        InputKind::WholeNumber { optional, .. } => !optional,
        InputKind::Name { .. }
        | InputKind::OptionalPolicyArn
        | InputKind::OptionalPath
        | InputKind::OptionalVersionArn => false,
    }
}

fn hcl_string(text: &str) -> String {
    match string(text) {
        Expr::Raw(quoted) => quoted,
        other => unreachable!("string() is a one-line literal, not {other:?}"),
    }
}

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for input in model.inputs() {
        let mut block = Block::new("variable", [input.name.as_str()])
            .attr("description", string(&input.description))
            .attr("type", raw(type_of(&input.kind)))
            .attr("default", raw(default_of(&input.kind)));
        if null_is_default(&input.kind) {
            block = block.attr("nullable", boolean(false));
        }
        if let Some(validation) = validation(&input.name, &input.kind) {
            block = block.block(validation);
        }
        file.push(block);
    }
    file
}

/// The input's validation: the spec's rule for its key, with the spec's help as the message.
fn validation(name: &str, kind: &InputKind) -> Option<Block> {
    let variable = format!("var.{name}");
    let (condition, message) = match kind {
        InputKind::Name { .. } => (
            matches(&resource_name_pattern(), &variable),
            format!(
                "The {name} must be 1-{MAX_NAME_CHARS} characters: a lowercase letter first, then lowercase letters, digits or '-', not ending in '-'."
            ),
        ),
        InputKind::OptionalPolicyArn => (
            format!(
                "{variable} == null || {}",
                // A customer managed policy (its account in the ARN) or an AWS managed one (`aws` there).
                matches("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", &variable)
            ),
            format!(
                "The {name} must be an IAM policy ARN, such as arn:aws:iam::123456789012:policy/boundary or arn:aws:iam::aws:policy/PowerUserAccess, or null."
            ),
        ),
        InputKind::OptionalVersionArn => (
            // `||` does not short-circuit before Terraform 1.12: a null would fail regex().
            format!(
                "{variable} == null ? true : {}",
                matches(VERSION_ARN_PATTERN, &variable)
            ),
            format!(
                "The {name} must be the ARN of a published version of this state machine, such as arn:aws:states:us-east-1:123456789012:stateMachine:NAME:3 (the state_machine_version_arn output of an earlier apply), or null."
            ),
        ),
        InputKind::Choice { values, help, .. } => {
            let values: Vec<String> = values.iter().map(|v| hcl_string(v)).collect();
            (
                format!("contains([{}], {variable})", values.join(", ")),
                invalid(name, help),
            )
        }
        InputKind::RetentionDays { .. } => {
            let days: Vec<String> = LOG_RETENTION_DAYS.iter().map(u32::to_string).collect();
            (
                format!("contains([{}], {variable})", days.join(", ")),
                invalid(name, &retention_help()),
            )
        }
        InputKind::WholeNumber {
            min,
            max,
            help,
            optional,
            ..
        } => {
            let whole = format!("{variable} >= {min} && {variable} <= {max} && floor({variable}) == {variable}");
            let condition = match optional {
                // `||` does not short-circuit before Terraform 1.12: a null would fail the comparisons.
                true => format!("{variable} == null ? true : ({whole})"),
                false => whole,
            };
            (condition, invalid(name, help))
        }
        InputKind::KmsKeyArn { .. } => (
            matches(KMS_KEY_ARN_PATTERN, &variable),
            format!(
                "Invalid {name}: use a KMS key ARN such as {KMS_KEY_ARN_FORM}. The spec names this queue's key by ARN; to use an alias, set one there and render again."
            ),
        ),
        InputKind::KmsKeyAlias { .. } => (
            format!(
                "length({variable}) <= {MAX_KMS_ALIAS_CHARS} && {}",
                matches(KMS_ALIAS_PATTERN, &variable)
            ),
            format!(
                "Invalid {name}: use a KMS key alias such as {KMS_ALIAS_FORM}, at most {MAX_KMS_ALIAS_CHARS} characters. The spec names this queue's key by alias; to use a key ARN, set one there and render again."
            ),
        ),
        InputKind::SecretArn { .. } => (
            matches(crate::spec::keys::SECRET_ARN_PATTERN, &variable),
            format!(
                "Invalid {name}: use a Secrets Manager secret ARN such as {}.",
                crate::spec::keys::SECRET_ARN_FORM
            ),
        ),
        InputKind::Tags { fixed } => tags_validation(&variable, fixed),
        InputKind::ArnList => (
            format!("length({variable}) <= {}", limits::ALARM_ACTIONS.figure),
            format!(
                "The {name} may hold at most {} ARNs: CloudWatch takes at most {} actions for an alarm's state (PutMetricAlarm).",
                limits::ALARM_ACTIONS.figure,
                limits::ALARM_ACTIONS.figure
            ),
        ),
        InputKind::AccountIds => (
            format!("alltrue([for account in {variable} : can(regex(\"^[0-9]{{12}}$\", account))])"),
            format!("The {name} must be AWS account IDs, 12 digits each, such as 111122223333."),
        ),
        InputKind::OptionalPath | InputKind::Flag { .. } => return None,
    };
    Some(
        Block::new("validation", Vec::<String>::new())
            .attr("condition", raw(condition))
            .attr("error_message", string(&message)),
    )
}

/// The tags' rule: with the tags every resource already has (`fixed`), at most [`limits::TAGS_PER_RESOURCE`]
/// distinct keys; no two keys that differ only in case (IAM tag keys ignore case: a role cannot carry both, and
/// the caller's `managedby` would not replace the module's `ManagedBy` but sit beside it); the spec's characters
/// and lengths. A caller's key equal to a fixed one replaces it (`merge()`: later keys win).
fn tags_validation(variable: &str, fixed: &[String]) -> (String, String) {
    let list = |keys: Vec<String>| {
        let quoted: Vec<String> = keys.iter().map(|k| hcl_string(k)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let exact = list(fixed.to_vec());
    let lower = list(fixed.iter().map(|k| k.to_lowercase()).collect());
    let keys_lower = format!("[for k in keys({variable}) : lower(k)]");
    let characters = format!("[{TAG_CHARACTERS_CLASS}]");
    let each = format!(
        "(contains({exact}, k) || !contains({lower}, lower(k))) && can(regex({key}, k)) && !startswith(lower(k), \"aws:\") && can(regex({value}, v))",
        key = hcl_string(&format!("^{characters}{{1,{}}}$", limits::TAG_KEY.figure)),
        value = hcl_string(&format!("^{characters}{{0,{}}}$", limits::TAG_VALUE.figure)),
    );
    let condition = [
        format!(
            "length(setunion({lower}, {keys_lower})) <= {}",
            limits::TAGS_PER_RESOURCE.figure
        ),
        format!("length(distinct({keys_lower})) == length({variable})"),
        format!("alltrue([for k, v in {variable} : {each}])"),
    ]
    .join(" && ");
    let message = format!(
        "Invalid tags: with the tags every resource already has ({}), at most {} distinct keys (AWS allows {} tags on a resource); no two keys that differ only in case (IAM ignores case in tag keys: use the same case to replace one); keys of 1-{} and values of up to {} letters, digits, spaces or _ . : / = + - @, no key starting with \"aws:\".",
        fixed.join(", "),
        limits::TAGS_PER_RESOURCE.figure,
        limits::TAGS_PER_RESOURCE.figure,
        limits::TAG_KEY.figure,
        limits::TAG_VALUE.figure,
    );
    (condition, message)
}

/// A state machine version's ARN: the state machine's ARN, `:`, and its version number (from 1). Step Functions'
/// name rule for the state machine's name (the module's are 1-80 characters of letters, digits, `-` and `_`).
pub const VERSION_ARN_PATTERN: &str =
    "^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[0-9A-Za-z_-]{1,80}:[1-9][0-9]*$";

/// The characters a tag key or value may hold, as an RE2 class body (Terraform's `regex()`): the spec's rule
/// for `[tags]`.
const TAG_CHARACTERS_CLASS: &str = "\\p{L}\\p{N} _.:/=+@-";

/// `can(regex("PATTERN", VARIABLE))`.
fn matches(pattern: &str, variable: &str) -> String {
    format!("can(regex({}, {variable}))", hcl_string(pattern))
}

/// `Invalid NAME: HELP.`, the help being the spec's for the key.
fn invalid(name: &str, help: &str) -> String {
    format!("Invalid {name}: {help}.")
}
