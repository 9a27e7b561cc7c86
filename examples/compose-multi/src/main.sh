echo "hello from the compose-multi example"
