# The app's source. The benchmark rewrites this file in its own copy of the folder.
echo "bench-diamond"
