#!/usr/bin/env bash
# The one-shot job of docker-compose.yml's local profile: creates on moto a deployment queue with a
# dead-letter queue, on ecs-sim a cluster and a 2-task service with the circuit breaker, then sends one
# deployment for the worker to roll out. Endpoints and dummy credentials come from the environment.
set -euo pipefail

until aws sqs list-queues >/dev/null 2>&1; do sleep 0.5; done
until aws ecs describe-clusters >/dev/null 2>&1; do sleep 0.5; done

dlq_url=$(aws sqs create-queue --queue-name deployments-dlq --query QueueUrl --output text)
dlq_arn=$(aws sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn \
  --query Attributes.QueueArn --output text)
queue_url=$(aws sqs create-queue --queue-name deployments \
  --attributes "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\":\\\"$dlq_arn\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"}" \
  --query QueueUrl --output text)
echo "queue: $queue_url (dead-letter queue $dlq_url)"

task_definition() { # image
  cat <<JSON
{"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "web", "image": "$1", "essential": true, "portMappings": [{"containerPort": 80}]}]}
JSON
}

aws ecs create-cluster --cluster-name default --query cluster.clusterArn --output text
task_definition nginx:1.27 >/tmp/v1.json
aws ecs register-task-definition --cli-input-json file:///tmp/v1.json \
  --query taskDefinition.taskDefinitionArn --output text
aws ecs create-service --service-name web --task-definition web:1 --desired-count 2 \
  --deployment-configuration 'maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}' \
  --query service.serviceArn --output text

task_definition nginx:1.28 >/tmp/v2.json
aws sqs send-message --queue-url "$queue_url" --message-body file:///tmp/v2.json \
  --message-attributes '{"service": {"DataType": "String", "StringValue": "web"}}' \
  --query MessageId --output text | sed 's/^/sent deployment message /'
