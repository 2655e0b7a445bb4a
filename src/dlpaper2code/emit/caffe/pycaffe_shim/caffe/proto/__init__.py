"""``caffe.proto`` of the pycaffe shim (only ``caffe_pb2``)."""
