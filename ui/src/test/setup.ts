// jsdom has no canvas; xterm probes one when its module loads. Components under test never draw.
HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement["getContext"];
