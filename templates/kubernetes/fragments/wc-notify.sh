# Bayforge boot script, last part: tell Heat this node has booted (signals the node's
# WaitCondition through the curl command line of its WaitConditionHandle).
$WAIT_CURL --data-binary '{"status": "SUCCESS"}'
