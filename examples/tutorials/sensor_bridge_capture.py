"""Capture from a sensor bridge camera: the device emulator, found and driven over loopback UDP.

A software Holoscan Sensor Bridge device (``HSBEmulator``, from ``holoflow.testing``) runs in a
thread on a fresh 127.x.y.z address. The host finds it by its BOOTP announcement, configures its
IMX274 camera over I2C, and the device streams RAW10 frames as RoCE v2 packets over UDP:

    receiver (LinuxReceiverOp) ─► csi_to_bayer ─► image_processor ─► demosaic ─► bars

``bars`` reads the eight colour bars of the camera's test pattern off each RGB frame.

    python3 examples/tutorials/sensor_bridge_capture.py
"""

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import BayerDemosaicOp, CsiToBayerOp, ImageProcessorOp, LinuxReceiverOp
from holoflow.sensor_bridge import DataChannel, Enumerator, Hololink, Imx274Cam, Imx274Mode
from holoflow.testing import HSBEmulator, random_loopback_ip

FRAMES = 3
COLOURS = {
    (1, 1, 1): "white",
    (1, 1, 0): "yellow",
    (0, 1, 1): "cyan",
    (0, 1, 0): "green",
    (1, 0, 1): "magenta",
    (1, 0, 0): "red",
    (0, 0, 1): "blue",
    (0, 0, 0): "black",
}


class ColourBars(Operator):
    """Names the colour of each of the eight vertical bars, and prints the receiver's metadata."""

    def setup(self, spec):
        spec.input("image")
        spec.input("raw")

    def compute(self, op_input, op_output, context):
        with op_input.receive_array("image", "") as (xp, image):  # (height, width, 3) uint16 RGB
            height, width = image.shape[:2]
            centres = (xp.arange(8) * width + width // 2) // 8  # the middle column of each bar
            colours = image[height // 4 :, centres].mean(axis=0)  # (8, 3), below the darker top rows
            bright = (colours > colours.max() / 2).tolist()  # eight [r, g, b] on/off triples
        names = [COLOURS[tuple(int(on) for on in channel)] for channel in bright]
        metadata = op_input.receive("raw")["metadata"]
        state = "complete" if metadata["complete"] else "incomplete"
        number = metadata["frame_number"]
        print(f"frame {number}: {width}x{height} {image.dtype} {state}; bars {' '.join(names)}")


class CaptureApp(Application):
    def __init__(self, channel, camera):
        self.channel, self.camera = channel, camera
        super().__init__()

    def compose(self):
        self.receiver = receiver = LinuxReceiverOp(
            self,
            CountCondition(self, FRAMES),
            name="receiver",
            hololink_channel=self.channel,
            device=self.camera,
            frame_size=self.camera.frame_size,
        )
        csi = CsiToBayerOp(self, name="csi_to_bayer")
        self.camera.configure_converter(csi)  # the mode's line layout and pixel format
        bayer = int(self.camera.bayer_format)  # where red sits in the 2x2 mosaic (1: RGGB)
        # Subtract the sensor's black level (50 at 10 bits: pixel_format=1), then white-balance.
        isp = ImageProcessorOp(
            self, name="image_processor", bayer_format=bayer, pixel_format=1, optical_black=50
        )
        demosaic = BayerDemosaicOp(self, name="demosaic", bayer_grid_pos=bayer)
        bars = ColourBars(self, name="bars")
        self.add_flow(receiver, csi, {("output", "input")})
        self.add_flow(csi, isp, {("output", "input")})
        self.add_flow(isp, demosaic, {("output", "receiver")})
        self.add_flow(demosaic, bars, {("transmitter", "image")})
        self.add_flow(receiver, bars, {("output", "raw")})


def main():
    ip = random_loopback_ip()  # an address of its own, as a device on the network has
    with (
        Enumerator(bootp_request_port=0) as enumerator,  # any free port: no privileges needed
        HSBEmulator(ip, announce_to=("127.0.0.1", enumerator.port), announce_interval=0.2, fps=20),
    ):
        metadata = enumerator.find(ip, timeout=10.0)  # waits for the device's BOOTP announcement
        channel = DataChannel(metadata)
        hololink = channel.hololink()
        try:
            hololink.start()  # the control plane: registers over UDP
            camera = Imx274Cam(channel)
            camera.setup_clock()
            camera.configure(Imx274Mode.IMX274_MODE_1920X1080_60FPS)  # over I2C
            version = camera.get_version()
            print(f"found {metadata['peer_ip']}, serial {metadata['serial_number']}, camera 0x{version:04X}")
            app = CaptureApp(channel, camera)
            app.run()
            stats = app.receiver.statistics()
            print(
                f"received {stats.frames_received} frames, {stats.packets_dropped} packets lost, "
                f"{stats.frames_dropped} frames replaced by newer ones"
            )
            hololink.stop()
        finally:
            Hololink.reset_framework()


if __name__ == "__main__":
    main()
