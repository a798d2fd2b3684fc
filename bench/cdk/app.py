"""The seed sample "sfn-callback-cdk" as a CDK app (Python), for `bench/render_bench.py --cdk`: an SQS
queue, a Python callback Lambda from an asset folder with a one-day log group, and a Standard state
machine whose one Task sends `{input, token}` to the queue and waits for the task token; the Lambda may
answer the token (`grant_task_response`). Its synthesized template has the same resource types as the
seed's (`bench/data/seed-cdk-synth-template.json`)."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct


class StepFunctionCallbackStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        queue = sqs.Queue(self, "MyQueue", visibility_timeout=cdk.Duration.seconds(300))
        function = lambda_.Function(
            self,
            "MyLambdaFunction",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="send_callback_token.handler",
            code=lambda_.Code.from_asset(str(Path(__file__).parent / "function")),
        )
        logs.LogGroup(
            self,
            "logs",
            log_group_name=f"/aws/lambda/{function.function_name}",
            retention=logs.RetentionDays.ONE_DAY,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        send = tasks.SqsSendMessage(
            self,
            "SendToSQS",
            queue=queue,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            message_body=sfn.TaskInput.from_object(
                {"input": sfn.JsonPath.entire_payload, "token": sfn.JsonPath.task_token}
            ),
        )
        machine = sfn.StateMachine(
            self,
            "StepFunction",
            definition_body=sfn.DefinitionBody.from_chainable(send),
            timeout=cdk.Duration.hours(1),
        )
        machine.grant_task_response(function)


app = cdk.App()
StepFunctionCallbackStack(app, "StepFunctionCallbackStack")
app.synth()
