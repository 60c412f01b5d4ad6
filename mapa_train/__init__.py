"""MapAnything-style training on WAI datasets: the models (MapAnything, VGGT, π³, MoGe-2), the training data
pipeline (`mapa_train.data`, numpy), the losses, the Accelerate trainer, the dense N-view benchmark and the
prediction stages. Importing the package imports no torch; the model, loss and trainer modules need it."""
