"""moto_server, with the few AWS behaviours that the real hashicorp/aws provider relies on and moto 5.2.5 lacks.

Usage: `python moto_shim.py -H 127.0.0.1 -p PORT` (the arguments of `moto_server`).

Terraform drives moto through the real provider here, and the provider reads back what it wrote and waits
for AWS to show it. Where moto answers differently from AWS, `apply` hangs, `plan` shows a change that is
not there, or a call fails as unknown. Each function below fills exactly one such gap, in the shape the AWS
API reference documents, and nothing else: everything not listed is moto as released.

| gap in moto 5.2.5                                   | what the provider does without the fix          |
|-----------------------------------------------------|-------------------------------------------------|
| SQS `Policy` removed by other attributes' set       | waits forever for the queue policy to appear    |
| SQS `RedriveAllowPolicy` dropped on set             | waits forever for it to appear (and to go away) |
| SQS `RedrivePolicy` returned with spaces            | plans a change on every run                     |
| `states:ValidateStateMachineDefinition` not wired   | create/update of a state machine fails          |
| `states:ListStateMachineVersions` not wired         | reading a state machine fails                   |
| `tracingConfiguration: {}` (X-Ray off) ignored      | waits for the change, then fails                |
| Lambda `LoggingConfig` not stored                   | plans to re-add `logging_config` on every run   |
| Lambda `TracingConfig` not updated                  | an in-place tracing change never lands          |
| Lambda code location points at no server           | a test cannot read the package the emulator holds |
| SQS event source mappings invoked inside SQS calls  | (not the provider: a test) a message that reaches a mapped queue is received, sent to Docker (absent), and put back |
| a spent task token (timed out, or its execution over) answered `InvalidToken` (success, heartbeat) or 200 (failure) | (not the provider: the callback) a late or duplicate callback is taken for a token that never existed |
| StopExecution leaves an execution waiting on a callback RUNNING | (not the provider: the runbook) "Stop waiting executions" stops nothing until the task times out |
| no `$$.Execution.RedriveCount` in the context object | (not the provider: the module) every task fails with States.Runtime, its message's `context` names it |
| StartExecution on an alias's or a version's ARN    | (not the provider: a starter) executions cannot start through the module's alias |
| a function URL without its trailing `/`            | (not the provider: a function) links built on `aws_lambda_function_url.function_url` differ from AWS's |
"""

import json
import os
import sys
from urllib.parse import unquote

from moto.awslambda import models as lambda_models
from moto.moto_api._internal import urls as moto_api_urls
from moto.sqs import models as sqs_models
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions import responses as sfn_responses

CODE_PATH = "/moto-api/sfngen/lambda-code/"


def sqs_keeps_redrive_allow_policy():
    """SetQueueAttributes/CreateQueue `RedriveAllowPolicy`: AWS stores the JSON and GetQueueAttributes returns
    it; set to an empty string it is removed, and AWS then omits the attribute (it does not return "").
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html"""
    queue = sqs_models.Queue
    set_attributes = queue._set_attributes

    def _set_attributes(self, given, now=None):
        given = dict(given)
        if "RedriveAllowPolicy" in given:
            # None is left out of GetQueueAttributes, as for moto's own unset attributes.
            self.redrive_allow_policy = given.pop("RedriveAllowPolicy") or None
        set_attributes(self, given, now)

    queue._set_attributes = _set_attributes
    # Listed, GetQueueAttributes accepts the name and returns the value (moto reads each listed attribute
    # with getattr: the class-level None covers queues that never set it).
    queue.BASE_ATTRIBUTES = [*queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    queue.redrive_allow_policy = None


def sqs_keeps_policy_when_other_attributes_change():
    """SetQueueAttributes without `Policy` (a redrive allow policy, say): AWS changes only the attributes it
    is given; moto sets the queue's policy to the missing value, so removes it, and the provider then waits
    forever for the policy it set (aws_sqs_queue_policy) to appear.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html"""
    queue = sqs_models.Queue
    set_attributes = queue._set_attributes

    def _set_attributes(self, given, now=None):
        kept = getattr(self, "_policy_json", None)  # absent while CreateQueue sets the first attributes
        set_attributes(self, given, now)
        if "Policy" not in given and kept is not None:
            self._policy_json = kept

    queue._set_attributes = _set_attributes


def sqs_returns_compact_redrive_policy():
    """GetQueueAttributes `RedrivePolicy`: AWS returns compact JSON (`{"deadLetterTargetArn":"...",
    "maxReceiveCount":5}`); moto's json.dumps adds spaces, which the provider shows as a diff.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html"""
    queue = sqs_models.Queue
    attributes = queue.attributes.fget

    def _attributes(self):
        result = attributes(self)
        if result.get("RedrivePolicy"):
            result["RedrivePolicy"] = json.dumps(json.loads(result["RedrivePolicy"]), separators=(",", ":"))
        return result

    queue.attributes = property(_attributes)


def sfn_validates_definitions():
    """ValidateStateMachineDefinition: `{"result": "OK" | "FAIL", "diagnostics": [...], "truncated": false}`,
    answered by moto's own ASL parser and static analyser (the ones CreateStateMachine uses).
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html"""
    from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import ExpressStaticAnalyser
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser

    def validate_state_machine_definition(self):
        definition = self._get_param("definition")
        analyser = ExpressStaticAnalyser() if self._get_param("type") == "EXPRESS" else StaticAnalyser()
        try:
            analyser.analyse(definition)
        except Exception as problem:  # moto's parser raises several types; AWS reports any as a diagnostic
            diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": repr(problem)}
            return json.dumps({"result": "FAIL", "diagnostics": [diagnostic], "truncated": False})
        return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

    sfn_responses.StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition


def sfn_lists_versions():
    """ListStateMachineVersions: `{"stateMachineVersions": [{"stateMachineVersionArn", "creationDate"}]}`,
    newest first, from the versions moto already keeps for `publish = true`.
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListStateMachineVersions.html"""

    def list_state_machine_versions(self):
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
        listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date.timestamp()} for v in versions]
        return json.dumps({"stateMachineVersions": listed})

    sfn_responses.StepFunctionResponse.list_state_machine_versions = list_state_machine_versions


def sfn_applies_tracing_off():
    """UpdateStateMachine `tracingConfiguration`: `enabled` defaults to false, and the provider's Go SDK
    leaves a false boolean out, so turning X-Ray off sends `{}`; moto skips an empty configuration and
    keeps tracing on, and the provider waits for the change until it gives up.
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_TracingConfiguration.html"""
    backend = sfn_models.StepFunctionBackend
    update_state_machine = backend.update_state_machine

    def _update_state_machine(self, arn, *args, tracing_configuration=None, **kwargs):
        if tracing_configuration is not None and "enabled" not in tracing_configuration:
            tracing_configuration = {**tracing_configuration, "enabled": False}
        return update_state_machine(self, arn, *args, tracing_configuration=tracing_configuration, **kwargs)

    backend.update_state_machine = _update_state_machine


def _logging_config(function_name, given):
    """A function's LoggingConfig as AWS returns it: LogFormat defaults to Text and LogGroup to
    /aws/lambda/NAME; with JSON, ApplicationLogLevel and SystemLogLevel default to INFO."""
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function_name}"}
    config.update({k: v for k, v in (given or {}).items() if v})
    if config["LogFormat"] == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    else:
        config.pop("ApplicationLogLevel", None)
        config.pop("SystemLogLevel", None)
    return config


def lambda_keeps_logging_config():
    """CreateFunction/UpdateFunctionConfiguration `LoggingConfig`: AWS stores it and GetFunction(Configuration)
    always returns it (defaults filled in); moto drops it, so the provider re-adds `logging_config` on
    every plan. https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html"""
    function = lambda_models.LambdaFunction
    init = function.__init__
    get_configuration = function.get_configuration
    update_configuration = function.update_configuration

    def __init__(self, account_id, spec, region, version=1):
        init(self, account_id, spec, region, version)
        self.logging_config = _logging_config(self.function_name, spec.get("LoggingConfig"))

    def _get_configuration(self, on_create=False):
        config = get_configuration(self, on_create)
        config["LoggingConfig"] = getattr(self, "logging_config", _logging_config(self.function_name, None))
        return config

    def _update_configuration(self, updates):
        if "LoggingConfig" in updates:
            self.logging_config = _logging_config(self.function_name, updates["LoggingConfig"])
        return update_configuration(self, updates)

    function.__init__ = __init__
    function.get_configuration = _get_configuration
    function.update_configuration = _update_configuration


def lambda_updates_tracing_config():
    """UpdateFunctionConfiguration `TracingConfig` ({"Mode": "Active" | "PassThrough"}): AWS applies it; moto
    ignores the key, so turning X-Ray off in place never lands.
    https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html"""
    function = lambda_models.LambdaFunction
    update_configuration = function.update_configuration

    def _update_configuration(self, updates):
        if updates.get("TracingConfig"):
            self.tracing_config = {"Mode": updates["TracingConfig"].get("Mode", "PassThrough")}
        return update_configuration(self, updates)

    function.update_configuration = _update_configuration


def lambda_serves_stored_code():
    """GetFunction `Code.Location`: AWS returns a presigned URL from which the deployment package can be
    downloaded; moto names an S3 bucket that does not exist. Here the location is this server, which
    answers with the bytes CreateFunction/UpdateFunctionCode stored.
    https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html"""
    function = lambda_models.LambdaFunction
    get_code = function.get_code

    def _get_code(self):
        response = get_code(self)
        if getattr(self, "code_bytes", None) and response.get("Code", {}).get("RepositoryType") == "S3":
            port = os.environ.get("MOTO_PORT", "5000")
            where = f"{self.account_id}/{self.region}/{self.function_name}"
            response["Code"]["Location"] = f"http://127.0.0.1:{port}{CODE_PATH}{where}"
        return response

    def serve_code(request, full_url, headers):
        account, region, name = unquote(full_url.split(CODE_PATH, 1)[1]).split("?")[0].split("/")[:3]
        stored = lambda_models.lambda_backends[account][region].get_function(name, None)
        return 200, {"Content-Type": "application/zip"}, stored.code_bytes

    function.get_code = _get_code
    # A named group: moto turns it into a Flask route (`<regex(".+"):where>`).
    moto_api_urls.url_paths["{0}" + CODE_PATH + "(?P<where>.+)"] = serve_code


def sqs_leaves_event_source_mappings_to_a_poller():
    """An SQS event source mapping: AWS's Lambda service polls the queue on its own, with the function's role.
    moto instead invokes the function inside the SendMessage (or the ReceiveMessage that redrives a message to a
    dead-letter queue) that adds the message, through Docker: absent here, the invocation fails, and the message
    goes back with one receive more and an error in the function's log group. The mapping is stored and
    listed as AWS does; the tests that need it play the poller (tests/e2e/lambda_service.py).
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"""
    # moto reaches a queue's mappings through this attribute only (to invoke them): the queue holds none.
    sqs_models.Queue.lambda_event_source_mappings = property(lambda self: {}, lambda self, value: None)


def sfn_tells_spent_tokens_from_invalid_ones():
    """SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat with the token of a task that is over: AWS answers
    `TaskTimedOut`, "the task token has either expired or the task associated with the token has already been
    closed", and `InvalidToken`, "the provided token is not valid", only for a token it never issued. moto 5.2.5
    looks for a success's or heartbeat's token among running executions only, so a spent token is `InvalidToken`
    there, and takes a failure for any task it knows, answering 200 to a failure of one that is over. Here a
    token moto issued whose task timed out, or whose execution is no longer running, is `TaskTimedOut`; every
    other case is moto's. (A token answered while its execution still runs is left to moto: it gives a retried
    Task the same token again, with the first attempt's outcome still recorded, so that outcome cannot tell a
    spent token from a retry's.)
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskHeartbeat.html"""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser import models as parser_models
    from moto.stepfunctions.parser.api import ExecutionStatus

    backend = parser_models.StepFunctionsParserBackend

    def task_timed_out():
        # moto's own TaskTimedOut cannot be raised (it takes no message, and its base requires one): the error
        # AWS answers, code and the reference's words.
        return AWSError(
            "Task Timed Out: the task token has either expired or the task associated with the token has already "
            "been closed",
            exception_type="TaskTimedOut",
            status=400,
        )

    def spent(self, token) -> bool:
        for execution in self._get_executions():
            worker = execution.exec_worker
            endpoint = worker.env.callback_pool_manager.get(token) if worker else None
            if endpoint is not None:
                return endpoint.consumer_error is not None or execution.status != ExecutionStatus.RUNNING
        return False

    def answering(original):
        def answer(self, task_token, *args, **kwargs):
            if spent(self, task_token):
                raise task_timed_out()
            return original(self, task_token, *args, **kwargs)

        return answer

    for name in ("send_task_success", "send_task_failure", "send_task_heartbeat"):
        setattr(backend, name, answering(getattr(backend, name)))


def sfn_context_counts_redrives():
    """The context object's `Execution.RedriveCount`: on AWS the number of times the execution was redriven, 0 until
    it is (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html). moto 5.2.5 leaves
    it out, so the path `$$.Execution.RedriveCount` that every task message's `context` holds selects nothing and
    the task fails with States.Runtime. moto serves no RedriveExecution, so no execution of it is ever redriven:
    the count is 0. (moto's `State.EnteredTime` is ISO 8601 with microseconds and `+00:00`, AWS's milliseconds
    and `Z`: the same instant, left as moto writes it.)"""
    from moto.stepfunctions.parser.backend import execution_worker

    worker = execution_worker.ExecutionWorker
    environment = worker._get_evaluation_environment

    def _get_evaluation_environment(self):
        env = environment(self)
        env.states.context_object.context_object_data["Execution"].setdefault("RedriveCount", 0)
        return env

    worker._get_evaluation_environment = _get_evaluation_environment


def sfn_stop_ends_waiting_tasks():
    """StopExecution: AWS stops the execution at once, ABORTED, a task waiting for its callback included
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html). moto 5.2.5 marks the
    program stopped but leaves the task waiting on its token, so the execution stays RUNNING until the task times
    out. Here a stop also wakes every task of the execution that waits for a callback (moto's own
    `interrupt_all`), and a stopped program stays stopped: the woken task's failure does not make it FAILED.
    (moto drops StopExecution's error and cause; AWS records them.)"""
    from moto.stepfunctions.parser.asl.eval import environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    env_class = environment.Environment
    set_stop, set_error = env_class.set_stop, env_class.set_error

    def _set_stop(self, stop_date, cause, error):
        set_stop(self, stop_date, cause, error)
        for endpoint in list(self.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()

    def _set_error(self, error):
        if not isinstance(self.program_state(), ProgramStopped):
            set_error(self, error)

    env_class.set_stop = _set_stop
    env_class.set_error = _set_error
def sfn_starts_executions_through_aliases():
    """StartExecution with an alias's ARN (`...:stateMachine:NAME:ALIAS`) or a version's (`...:stateMachine:NAME:3`):
    AWS runs the version the alias routes to (by the routing configuration's weights), or that version, as an
    execution of the state machine. moto 5.2.5 keeps versions and aliases, but looks an alias's ARN up as a state
    machine (StateMachineDoesNotExist) and would run a version as a state machine of its own. Here the ARN is
    resolved to its version, and the execution runs that version's definition as one of the state machine's
    (its ARN `execution:NAME:EXECUTION`, listed and answered as any other). DescribeExecution's
    `stateMachineVersionArn` and `stateMachineAliasArn` stay moto's (absent).
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html"""
    import random

    from moto.stepfunctions.parser import models as parser_models

    backend = parser_models.StepFunctionsParserBackend
    start_execution = backend.start_execution

    def version_of(self, arn: str) -> str:
        if arn.rsplit(":", 1)[1].isdigit():
            return arn
        routes = self.describe_state_machine_alias(arn).routing_configuration
        weights = [int(route.get("weight", 0)) for route in routes]
        return random.choices(routes, weights=weights)[0]["stateMachineVersionArn"]

    def _start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        parts = state_machine_arn.split(":")
        if len(parts) != 8:  # arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME, unqualified
            return start_execution(self, state_machine_arn, name, execution_input, trace_header)
        machine = self.describe_state_machine(":".join(parts[:7]))
        version = self.describe_state_machine(version_of(self, state_machine_arn))
        latest = machine.definition
        machine.definition = version.definition  # what the execution's snapshot of the machine copies
        try:
            return start_execution(self, machine.arn, name, execution_input, trace_header)
        finally:
            machine.definition = latest

    backend.start_execution = _start_execution


def lambda_function_urls_end_with_a_slash():
    """CreateFunctionUrlConfig/GetFunctionUrlConfig `FunctionUrl`: AWS returns the URL with its path,
    `https://URL_ID.lambda-url.REGION.on.aws/` (the AWS CLI reference's example for create-function-url-config);
    moto 5.2.5 leaves the `/` out, so what a module builds on aws_lambda_function_url.function_url (a link
    `${url}?id=...`) is not the string AWS would give it.
    https://docs.aws.amazon.com/cli/latest/reference/lambda/create-function-url-config.html"""
    config = lambda_models.FunctionUrlConfig
    init = config.__init__

    def __init__(self, function, config):
        init(self, function=function, config=config)
        if not self.url.endswith("/"):
            self.url += "/"

    config.__init__ = __init__


def record_calls():
    """Not a gap: with `SFNGEN_MOTO_CALLS=FILE` in its environment, the server writes one JSON line per request to
    FILE (the signing service from the request's SigV4 credential scope, the `X-Amz-Target` header, the query
    protocol's `Action`, the method, the path and the user agent), so that a test can tell which AWS API calls a client (the
    real provider) made. tests/e2e/test_day_two.py maps them to IAM actions. Off unless the variable is set."""
    path = os.environ.get("SFNGEN_MOTO_CALLS")
    if not path:
        return
    import io
    import re
    import threading
    from urllib.parse import parse_qs

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    out = open(path, "a", buffering=1)
    dispatch = DomainDispatcherApplication.__call__

    def __call__(self, environ, start_response):
        path_info = environ.get("PATH_INFO", "")
        if not path_info.startswith("/moto-api"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
            action = None
            if b"Action=" in body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
                action = parse_qs(body.decode(errors="replace")).get("Action", [None])[0]
            action = action or parse_qs(environ.get("QUERY_STRING", "")).get("Action", [None])[0]
            entry = {
                "service": scope.group(1) if scope else None,
                "target": environ.get("HTTP_X_AMZ_TARGET"),
                "action": action,
                "method": environ.get("REQUEST_METHOD"),
                "path": path_info,
                "query": environ.get("QUERY_STRING", ""),
                "agent": environ.get("HTTP_USER_AGENT", ""),
            }
            with lock:
                out.write(json.dumps(entry) + "\n")
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = __call__


GAPS = [
    sqs_keeps_policy_when_other_attributes_change,
    sqs_keeps_redrive_allow_policy,
    sqs_returns_compact_redrive_policy,
    sfn_validates_definitions,
    sfn_lists_versions,
    sfn_applies_tracing_off,
    lambda_keeps_logging_config,
    lambda_updates_tracing_config,
    lambda_serves_stored_code,
    sqs_leaves_event_source_mappings_to_a_poller,
    sfn_tells_spent_tokens_from_invalid_ones,
    sfn_context_counts_redrives,
    sfn_stop_ends_waiting_tasks,
    sfn_starts_executions_through_aliases,
    lambda_function_urls_end_with_a_slash,
]


def install():
    for fill in GAPS:
        fill()
    record_calls()


if __name__ == "__main__":
    install()
    from moto.server import main

    sys.exit(main())
