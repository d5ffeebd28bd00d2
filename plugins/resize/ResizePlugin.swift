// resize plugin
