echo "worker v1"
