#!/usr/bin/env bash
# Runs the local AWS test bed and deploys a service through it, with no AWS account:
#   moto's server for SQS, ecs-sim for ECS (rollouts over simulated time), the real aws CLI as the client.
# It creates a deployment queue with a dead-letter queue, a cluster and a service, sends a deployment
# message in the producer's format, then rolls the service out to that task definition and watches the
# rollout until ECS reports it COMPLETED. Both emulators stop when the script ends.
#
# DEMO_TICK_MS sets real milliseconds per simulated second (default 500).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup-venv.sh

tick_ms=${DEMO_TICK_MS:-500}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "demo: timed out waiting for: $*" >&2; return 1; fi
    sleep 0.2
  done
}

say "building ecs-sim"
cargo build --quiet --locked -p ecs-sim
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say "starting moto (SQS) on port $moto_port and ecs-sim (ECS, 1 simulated second = ${tick_ms} ms)"
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
target/debug/ecs-sim --listen 127.0.0.1:0 --tick-ms "$tick_ms" >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
wait_for 60 grep -q 'listening on' "$work/sim.out"
ecs_endpoint=$(grep -o 'http://[0-9.:]*' "$work/sim.out" | head -n1)
sqs_endpoint="http://127.0.0.1:$moto_port"
wait_for 60 python3 -c "import urllib.request; urllib.request.urlopen('$sqs_endpoint/moto-api/')"
echo "    SQS: $sqs_endpoint    ECS: $ecs_endpoint"

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_ECS
sqs() { .venv/bin/aws --endpoint-url "$sqs_endpoint" sqs "$@"; }
ecs() { .venv/bin/aws --endpoint-url "$ecs_endpoint" ecs "$@"; }

say "creating the deployment queue with a dead-letter queue"
dlq_url=$(sqs create-queue --queue-name deployments-dlq --query QueueUrl --output text)
dlq_arn=$(sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn --query Attributes.QueueArn --output text)
redrive=$(printf '{"deadLetterTargetArn":"%s","maxReceiveCount":"5"}' "$dlq_arn")
queue_url=$(sqs create-queue --queue-name deployments \
  --attributes "$(python3 -c 'import json,sys; print(json.dumps({"VisibilityTimeout": "60", "RedrivePolicy": sys.argv[1]}))' "$redrive")" \
  --query QueueUrl --output text)
echo "    $queue_url"

task_definition() { # image
  cat <<JSON
{"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "web", "image": "$1", "essential": true,
   "portMappings": [{"containerPort": 80}],
   "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "interval": 10}}]}
JSON
}

say "creating cluster 'default' and service 'web' (3 tasks of nginx:1.27, circuit breaker with rollback)"
ecs create-cluster --cluster-name default --query cluster.clusterArn --output text >/dev/null
task_definition nginx:1.27 >"$work/v1.json"
ecs register-task-definition --cli-input-json "file://$work/v1.json" --query taskDefinition.taskDefinitionArn --output text
ecs create-service --service-name web --task-definition web:1 --desired-count 3 \
  --deployment-configuration 'maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}' \
  --query 'service.serviceArn' --output text

# Prints the service's deployments on one line until its PRIMARY deployment is COMPLETED or FAILED.
watch_rollout() {
  local deadline=$((SECONDS + 300)) line state
  while ((SECONDS < deadline)); do
    line=$(ecs describe-services --services web --output text \
      --query 'services[0].deployments[].[status, taskDefinition, rolloutState, runningCount, desiredCount]' |
      awk '{sub(/.*task-definition\//, "", $2); printf "%s %s %s %s/%s running | ", $1, $2, $3, $4, $5}')
    printf '    %s\n' "${line% | }"
    state=$(ecs describe-services --services web --query 'services[0].deployments[0].rolloutState' --output text)
    case "$state" in COMPLETED | FAILED) echo "    rollout $state"; return 0 ;; esac
    sleep 0.5
  done
  echo "demo: the rollout did not finish in 300 s" >&2
  return 1
}
watch_rollout

say "sending a deployment message: body = task definition nginx:1.28, attribute service = web"
task_definition nginx:1.28 >"$work/v2.json"
sqs send-message --queue-url "$queue_url" --message-body "file://$work/v2.json" \
  --message-attributes '{"service": {"DataType": "String", "StringValue": "web"}, "commit_url": {"DataType": "String", "StringValue": "https://example.com/commit/abc123"}}' \
  --query MessageId --output text

say "receiving it and rolling it out (the steps ecs-deployment automates)"
sqs receive-message --queue-url "$queue_url" --wait-time-seconds 5 --message-attribute-names All >"$work/message.json"
python3 - "$work/message.json" "$work/body.json" "$work/receipt" <<'PY'
import json, sys
message = json.load(open(sys.argv[1]))["Messages"][0]
print("    service:", message["MessageAttributes"]["service"]["StringValue"],
      " commit_url:", message["MessageAttributes"]["commit_url"]["StringValue"])
open(sys.argv[2], "w").write(message["Body"])
open(sys.argv[3], "w").write(message["ReceiptHandle"])
PY
new_arn=$(ecs register-task-definition --cli-input-json "file://$work/body.json" --query taskDefinition.taskDefinitionArn --output text)
echo "    registered $new_arn"
ecs update-service --service web --task-definition "$new_arn" --query 'service.deployments[0].id' --output text
watch_rollout
sqs delete-message --queue-url "$queue_url" --receipt-handle "$(cat "$work/receipt")"
echo "    message deleted after the rollout completed"

say "running tasks now"
arns=$(ecs list-tasks --service-name web --query 'taskArns[]' --output text)
# shellcheck disable=SC2086
ecs describe-tasks --tasks $arns --output text \
  --query 'tasks[].[taskArn, taskDefinitionArn, lastStatus, healthStatus]' |
  awk '{sub(/.*:task\//, "task/", $1); sub(/.*:task-definition\//, "", $2); printf "    %s  %s  %s  %s\n", $1, $2, $3, $4}'
say "ECS API calls the demo made (GET $ecs_endpoint/_sim/stats)"
python3 -c "import json, urllib.request; print(json.dumps(json.load(urllib.request.urlopen('$ecs_endpoint/_sim/stats'))['calls']))"
