"""The service-definition attributes every Open311 service shares: the schemas describe them
to clients, the service checks what clients send against them.

Both feed fields intake already understands, so Chinese map SDK clients can send
GCJ-02/BD-09 points as they have them.
"""

ATTRIBUTES = (
    {
        "code": "crs",
        "datatype": "singlevaluelist",
        "required": False,
        "order": 1,
        "description": "坐标系（lat/long 的来源）",
        "datatype_description": "默认 wgs84",
        "values": [("wgs84", "WGS-84（GPS）"), ("gcj02", "GCJ-02（高德、腾讯地图）"), ("bd09", "BD-09（百度地图）")],
    },
    {
        "code": "accuracy",
        "datatype": "number",
        "required": False,
        "order": 2,
        "description": "定位精度（米）",
        "datatype_description": "0 至 100000 的数字",
        "values": [],
    },
)
