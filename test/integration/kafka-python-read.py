"""Reads one partition of a topic with kafka-python as Debian packages it (python3-kafka) without
python3-lz4, for test/integration/kafka-cluster.test.ts. Prints {"ids": [...]} or
{"error": "UnsupportedCodecError", ...}. Usage: kafka-python-read.py BROKERS TOPIC"""
import json
import sys

# Debian's python3-kafka without python3-lz4 (Recommends are not installed everywhere): make
# `import lz4` fail as it does there, even where python3-lz4 happens to be installed.
sys.modules["lz4"] = None
sys.modules["lz4.frame"] = None

from kafka import KafkaConsumer, TopicPartition  # noqa: E402
from kafka.errors import UnsupportedCodecError  # noqa: E402

brokers, topic = sys.argv[1], sys.argv[2]
consumer = KafkaConsumer(
    bootstrap_servers=brokers.split(","), group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=20000
)
partition = TopicPartition(topic, 0)
consumer.assign([partition])
consumer.seek_to_beginning(partition)
try:
    print(json.dumps({"ids": [json.loads(m.value)["id"] for m in consumer]}))
except UnsupportedCodecError as error:
    print(json.dumps({"error": "UnsupportedCodecError", "message": str(error)}))
consumer.close()
