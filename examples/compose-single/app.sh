echo "hello from the single-stage example"
