echo "hello from the multi-stage example"
