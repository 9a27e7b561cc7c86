echo "api v1"
