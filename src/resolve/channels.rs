//! Channels: which one a step sends through (`queue`, `topic` or `bus`, exactly one), every channel a step
//! names declared and every declared one used; `[topics.*]` and `[buses.*]`. Queues are `queues`'.

use std::collections::BTreeSet;

use super::Checker;
use super::queues::dead_letter_reader;
use super::values::{did_you_mean_prefix, flag};
use crate::diagnostic::shown;
use crate::model::{AwsName, Bus, BusDeadLetter, BusName, Channel, CustomerKey, Encryption, Topic};
use crate::spec::{BusSpec, Located, Spec, StepSpec, TopicSpec, keys};

/// The spec keys that name a step's channel, each with the map its tables are in.
pub(super) const CHANNEL_KEYS: [(&str, &str); 3] = [("queue", "queues"), ("topic", "topics"), ("bus", "buses")];

/// The channel keys a step writes, with their values, in [`CHANNEL_KEYS`] order.
fn named(step: &StepSpec) -> Vec<(&'static str, &Located<String>)> {
    let values = [step.queue.as_ref(), step.topic.as_ref(), step.bus.as_ref()];
    CHANNEL_KEYS
        .iter()
        .zip(values)
        .filter_map(|(&(key, _), value)| value.map(|v| (key, v)))
        .collect()
}

/// The keys of the map `map` (`queues`, `topics`, `buses`) written in the spec.
fn declared<'a>(spec: &'a Spec, map: &str) -> BTreeSet<&'a str> {
    match map {
        "queues" => spec.queues.iter().map(|(k, _)| k.value.as_str()).collect(),
        "topics" => spec.topics.iter().map(|(k, _)| k.value.as_str()).collect(),
        _ => spec.buses.iter().map(|(k, _)| k.value.as_str()).collect(),
    }
}

/// Which entries of `map` the steps use; `None` while some step names no channel or several, or names an entry of
/// this map that is not declared: an unused entry is then likely the one a typo or a missing key meant, reported on
/// the step itself. A typo in another map's key says nothing about this one.
pub(super) fn used_entries<'a>(spec: &'a Spec, map: &str) -> Option<BTreeSet<&'a str>> {
    let steps: Vec<&StepSpec> = spec.steps.iter().flat_map(|s| s.value.iter()).collect();
    let declared_here = declared(spec, map);
    let mut used = BTreeSet::new();
    for step in &steps {
        let [(key, value)] = named(step)[..] else {
            return None;
        };
        let (_, step_map) = CHANNEL_KEYS.iter().find(|(k, _)| *k == key)?;
        if *step_map != map {
            continue;
        }
        if !declared_here.contains(value.value.as_str()) {
            return None;
        }
        used.insert(value.value.as_str());
    }
    (!steps.is_empty()).then_some(used)
}

impl Checker {
    /// The channel a step sends through: exactly one of `queue`, `topic` and `bus`, naming a declared table.
    /// After an error, a queue with an empty key (nothing emits a model that has errors).
    pub(super) fn channel(&mut self, spec: &Spec, path: &str, step: &StepSpec) -> Channel {
        let named = named(step);
        match named[..] {
            [] => {
                if !CHANNEL_KEYS
                    .iter()
                    .any(|(key, _)| self.failed(&format!("{path}.{key}")))
                {
                    // Reported at `queue`, the key format 1 requires, so that a message names a key path.
                    self.error(
                        &format!("{path}.queue"),
                        step.span.clone(),
                        "missing required key `queue` (or `topic`, or `bus`): a step sends its task through one channel"
                            .into(),
                        "add `queue = \"main\"` to this table, or `topic = \"KEY\"` or `bus = \"KEY\"`".into(),
                    );
                }
                Channel::Queue(String::new())
            }
            [(key, value)] => {
                self.known_entry(spec, path, key, value);
                match key {
                    "queue" => Channel::Queue(value.value.clone()),
                    "topic" => Channel::Topic(value.value.clone()),
                    _ => Channel::Bus(value.value.clone()),
                }
            }
            [.., (last, value)] => {
                let keys: Vec<String> = named.iter().map(|(k, _)| format!("`{k}`")).collect();
                let listed = match keys.as_slice() {
                    [init @ .., tail] => format!("{} and {tail}", init.join(", ")),
                    [] => String::new(),
                };
                self.error(
                    &format!("{path}.{last}"),
                    value.span.clone(),
                    format!("a step sends its task through exactly one channel, and this one has {listed}"),
                    "keep one of them; to send to several places, use several steps (or a topic with several \
                     subscribers)"
                        .into(),
                );
                Channel::Queue(String::new())
            }
        }
    }

    /// A step's `queue`, `topic` or `bus` is the key of a table of its map (unless that table was written but
    /// could not be read).
    fn known_entry(&mut self, spec: &Spec, path: &str, key: &str, value: &Located<String>) {
        let Some((_, map)) = CHANNEL_KEYS.iter().find(|(k, _)| *k == key) else {
            return;
        };
        let declared = declared(spec, map);
        if declared.contains(value.value.as_str()) || self.failed(&format!("{map}.{}", value.value)) {
            return;
        }
        let near = did_you_mean_prefix(&value.value, declared.iter().copied());
        // The key may be declared for another channel: `topic = "main"` beside [queues.main].
        let elsewhere = CHANNEL_KEYS
            .iter()
            .find(|(other, other_map)| *other != key && self::declared(spec, other_map).contains(value.value.as_str()))
            .map(|(other, other_map)| {
                format!(
                    "[{other_map}.{}] is declared: write `{other} = {:?}`, or ",
                    value.value, value.value
                )
            })
            .unwrap_or_default();
        let define = if super::names::resource_name_problem(&value.value).is_none() {
            format!("define it as a [{map}.{}] table", value.value)
        } else {
            format!("name a [{map}.KEY] table (a key is 1 to 32 of a-z, 0-9 and -, a letter first)")
        };
        self.error(
            &format!("{path}.{key}"),
            value.span.clone(),
            format!("no {key} named {:?}", value.value),
            format!("{near}{elsewhere}{define}, or use an existing {key} key"),
        );
    }

    /// An entry of `map` no step uses.
    pub(super) fn unused_entry(&mut self, map: &str, key: &Located<String>) {
        let Some((channel, _)) = CHANNEL_KEYS.iter().find(|(_, m)| *m == map) else {
            return;
        };
        self.error(
            &format!("{map}.{}", key.value),
            key.span.clone(),
            format!("{channel} `{}` is not used by any step", key.value),
            format!(
                "set `{channel} = \"{}\"` on a [[steps]] table, or delete [{map}.{}]",
                key.value, key.value
            ),
        );
    }

    /// The topics, sorted by key. `callback_timeout_seconds` sets how long a topic's dead-letter queue hides a
    /// batch the dead-letter function reads.
    pub(super) fn topics(&mut self, spec: &Spec, callback_timeout_seconds: u64) -> Vec<Topic> {
        let used = used_entries(spec, "topics");
        let mut topics: Vec<Topic> = spec
            .topics
            .iter()
            .map(|(key, t)| {
                if used.as_ref().is_some_and(|u| !u.contains(key.value.as_str())) {
                    self.unused_entry("topics", key);
                }
                self.topic(key, t, callback_timeout_seconds)
            })
            .collect();
        topics.sort_by(|a, b| a.key.cmp(&b.key));
        topics
    }

    fn topic(&mut self, key: &Located<String>, t: &TopicSpec, callback_timeout_seconds: u64) -> Topic {
        let table = format!("topics.{}", key.value);
        self.resource_name(&table, Some(key));
        let fifo = flag(t.fifo.as_ref());
        let suffix = if fifo { ".fifo" } else { "" };
        let encryption = match self.encryption(
            &keys::TOPIC_ENCRYPTION,
            "SNS's AWS managed key",
            &table,
            t.encryption.as_ref(),
        ) {
            None => Encryption::ServiceManaged,
            Some(CustomerKey::Module) => Encryption::ModuleKey,
            Some(CustomerKey::Arn(arn)) => Encryption::KeyArn(arn),
            Some(CustomerKey::Alias(alias)) => Encryption::KeyAlias(alias),
        };
        Topic {
            key: key.value.clone(),
            name: AwsName::suffixed(format!("-{}{suffix}", key.value)),
            fifo,
            encryption,
            subscriptions: self.subscriptions(&table, fifo, t.subscriptions.as_deref()),
            dead_letter: self.topic_dead_letter(&key.value, fifo, t.dead_letter.as_ref(), callback_timeout_seconds),
        }
    }

    /// The buses, sorted by key. `name` is the spec's `name` (the default event source's).
    /// `callback_timeout_seconds` sets how long a dead-letter queue the dead-letter function reads hides a batch.
    pub(super) fn buses(&mut self, spec: &Spec, name: &str, callback_timeout_seconds: u64) -> Vec<Bus> {
        let used = used_entries(spec, "buses");
        let mut buses: Vec<Bus> = spec
            .buses
            .iter()
            .map(|(key, b)| {
                if used.as_ref().is_some_and(|u| !u.contains(key.value.as_str())) {
                    self.unused_entry("buses", key);
                }
                self.bus(key, b, name, callback_timeout_seconds)
            })
            .collect();
        buses.sort_by(|a, b| a.key.cmp(&b.key));
        buses
    }

    fn bus(&mut self, key: &Located<String>, b: &BusSpec, name: &str, callback_timeout_seconds: u64) -> Bus {
        let table = format!("buses.{}", key.value);
        self.resource_name(&table, Some(key));
        let bus = match b.name.as_ref() {
            None => BusName::Custom(AwsName::suffixed(format!("-{}", key.value))),
            Some(written) => {
                self.existing_bus_name(&table, written);
                BusName::Existing(written.value.clone())
            }
        };
        let source = match b.source.as_ref() {
            Some(source) => {
                self.event_source(&table, source);
                source.value.clone()
            }
            None => format!("sfngen.{name}"),
        };
        let detail_type = match b.detail_type.as_ref() {
            Some(detail_type) => {
                self.detail_type(&table, detail_type);
                detail_type.value.clone()
            }
            None => keys::BUS_DETAIL_TYPE.rule.default.unwrap_or_default().to_string(),
        };
        let dead_letter = b.dead_letter.as_ref().is_none_or(|on| on.value).then(|| BusDeadLetter {
            name: AwsName::suffixed(format!("-{}-bus-dlq", key.value)),
            retention_seconds: keys::QUEUE_RETENTION.rule.max,
            reader: dead_letter_reader(callback_timeout_seconds),
        });
        Bus {
            key: key.value.clone(),
            bus,
            source,
            detail_type,
            rule: AwsName::suffixed(format!("-{}", key.value)),
            dead_letter,
        }
    }

    /// `buses.*.name`: the name of a bus that exists (`default`, or one made elsewhere), as CreateEventBus allows.
    fn existing_bus_name(&mut self, table: &str, written: &Located<String>) {
        let name = written.value.as_str();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        let fits = (1..=crate::limits::EVENT_BUS_NAME.figure as usize).contains(&name.chars().count());
        if fits && name.chars().all(allowed) {
            return;
        }
        self.error(
            &format!("{table}.name"),
            written.span.clone(),
            format!("{} is not an event bus name", shown(name)),
            format!(
                "use \"default\" (the account's default bus) or an existing bus's name of 1 to {} letters, digits, \
                 `.`, `_` or `-`; leave `name` out for a bus this module creates",
                crate::limits::EVENT_BUS_NAME.figure
            ),
        );
    }

    /// `buses.*.source`: 1 to 256 characters, not `aws.` first (the prefix is AWS's own).
    fn event_source(&mut self, table: &str, source: &Located<String>) {
        let text = source.value.as_str();
        let length = text.chars().count();
        let (problem, help) = if length == 0 || length > keys::MAX_EVENT_SOURCE_CHARS {
            (
                format!(
                    "an event source is 1 to {} characters, and this one is {length}",
                    keys::MAX_EVENT_SOURCE_CHARS
                ),
                "shorten it: a reverse-domain name such as \"com.example.orders\" is the custom",
            )
        } else if text.starts_with("aws.") {
            (
                format!(
                    "{} starts with `aws.`, which EventBridge keeps for AWS's own events",
                    shown(text)
                ),
                "use your own reverse-domain name, such as \"com.example.orders\"",
            )
        } else {
            return;
        };
        self.error(&format!("{table}.source"), source.span.clone(), problem, help.into());
    }

    /// `buses.*.detail_type`: 1 to 128 characters.
    fn detail_type(&mut self, table: &str, detail_type: &Located<String>) {
        let length = detail_type.value.chars().count();
        if (1..=keys::MAX_DETAIL_TYPE_CHARS).contains(&length) {
            return;
        }
        self.error(
            &format!("{table}.detail_type"),
            detail_type.span.clone(),
            format!(
                "an event's detail type is 1 to {} characters, and this one is {length}",
                keys::MAX_DETAIL_TYPE_CHARS
            ),
            "use a short phrase naming the task, such as \"Order approval requested\"".into(),
        );
    }
}
