echo "web v1"
