echo "diamond v1"
