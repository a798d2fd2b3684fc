"""The callback function of the seed, the AWS CDK sample sfn-callback-cdk (boto3 `send_task_success`), run as a
Lambda custom runtime: a minimal Runtime API loop in the style of awslambdaric, so that it starts and is
invoked exactly like the Rust `bootstrap` in the benchmark."""

import json
import os
import urllib.request

import boto3

client = boto3.client("stepfunctions")


def handler(event, context):
    print("Lambda function invoked")
    print(json.dumps(event))
    token = event["token"]
    print(f"Token received: {token}")
    client.send_task_success(taskToken=token, output="{}")
    print("Token sent to the Step Function")
    return {"statusCode": 200}


def main():
    api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
    while True:
        with urllib.request.urlopen(f"{api}/next", timeout=120) as response:
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(response.read())
        result = handler(event, None)
        body = json.dumps(result).encode()
        urllib.request.urlopen(urllib.request.Request(f"{api}/{request_id}/response", data=body, method="POST")).read()


if __name__ == "__main__":
    main()
