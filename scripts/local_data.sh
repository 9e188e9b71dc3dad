# Sourced by the scripts: on the project's offline machines, point every dataset
# variable that is not already set at the staged copies in ../shared/data.
shared=../shared/data
if [ -d "$shared" ]; then
  export SNNTORCH_BAYES_MNIST=${SNNTORCH_BAYES_MNIST:-$shared/mnist}
  export SNNTORCH_BAYES_FASHION_MNIST=${SNNTORCH_BAYES_FASHION_MNIST:-$shared/fashion-mnist}
  export SNNTORCH_BAYES_CIFAR10=${SNNTORCH_BAYES_CIFAR10:-$shared/cifar10-jpg.tar.gz}
  export SNNTORCH_BAYES_FSDD=${SNNTORCH_BAYES_FSDD:-$shared/fsdd-recordings.tar.gz}
fi
